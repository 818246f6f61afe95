"""The authorization matrix (issue 8): every route of the route table x every identity x each
relevant target, against a real server (SQLite and PostgreSQL), each answer compared with the
status ``matrix_rules`` expects from docs/auth.md. A leak is a 2xx where 401/403/404 was expected,
or a 403 where 404 was (the thing's existence shown); a list showing what it should hide is one too.
``pytest -s`` prints the matrix's size and its leaks."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from matrix_rules import RULES, Call, Rule, sees
from matrix_world import Caller, World, build_world
from server_support import BACKENDS, admin_key, fresh_server

from trackwell.server import create_app
from trackwell.server.auth.routes import route_rules

REFUSALS = (401, 403, 404)
ORDER = {"GET": 0, "PUT": 1, "POST": 1, "PATCH": 1, "DELETE": 2}  # reads first, revocations last


def routes(tmp_path: Path) -> list[tuple[str, str]]:
    """(method, path) of every route, from the app's own table (the app is not started)."""
    app = create_app(f"sqlite:///{tmp_path / 'routes.db'}", tmp_path / "routes.duckdb")
    found = {(method, rule.path) for rule in route_rules(app) for method in rule.methods}
    return sorted(found, key=lambda r: (ORDER.get(r[0], 1), r[1], r[0]))


def unruled(tmp_path: Path) -> list[tuple[str, str]]:
    return [route for route in routes(tmp_path) if route not in RULES]


@dataclass(frozen=True)
class Cell:
    route: tuple[str, str]
    caller: str
    target: str
    expected: int
    status: int
    text: str
    seen: bool  # the caller may know the target exists

    @property
    def leak(self) -> bool:
        return (self.expected in REFUSALS and self.status < 300) or (self.expected == 404 and self.status == 403)

    @property
    def wrong(self) -> bool:
        return self.status != self.expected

    def __str__(self) -> str:
        method, path = self.route
        return (f"{'LEAK ' if self.leak else ''}{method} {path} as {self.caller} on {self.target}: expected "
                f"{self.expected}, got {self.status} {self.text[:300]}")


@dataclass
class Matrix:
    cells: list[Cell]
    shown: list[str]  # what a 200's body showed wrongly
    log: str
    keys: list[str]  # the callers' keys (the bootstrap admin's among them)

    @property
    def leaks(self) -> list[str]:
        return [str(c) for c in self.cells if c.leak] + [p for p in self.shown if "LEAK" in p]


def send(world: World, caller: Caller, call: Call) -> httpx.Response:
    return world.call(call.method, call.path, {**caller.headers, **call.headers}, json=call.json, params=call.params,
                      content=call.content, api=call.api)


def run_cell(world: World, route: tuple[str, str], rule: Rule, caller: Caller, target: str) -> tuple[Cell, list[str]]:
    expected = rule.expect(caller, target)
    response = send(world, caller, rule.call(world, caller, target, 200 <= expected < 300))
    cell = Cell(route, caller.name, target, expected, response.status_code, response.text, sees(caller, target))
    shown: list[str] = []
    if response.status_code == 200 and rule.check is not None:
        shown = [f"{route[0]} {route[1]} as {caller.name} on {target}: {p}" for p in
                 rule.check(world, caller, target, response.json())]
    if response.status_code == 401:
        assert response.headers.get("www-authenticate", "").lower().startswith("bearer"), str(cell)
    return cell, shown


@pytest.fixture(scope="module", params=BACKENDS)
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """Every cell, run once per backend against a server with the matrix's world."""
    tmp = tmp_path_factory.mktemp("matrix")
    if unruled(tmp):
        pytest.fail(f"new endpoint without a rule in tests/auth/matrix_rules.py: {unruled(tmp)}")
    with fresh_server(request, request.param, tmp, "--auth-failures-per-minute", "100000") as served:
        live = served.live
        world = build_world(live.url, admin_key(live))
        cells, shown = [], []
        for route in routes(tmp):
            rule = RULES[route]
            for caller in world.callers:
                for target in rule.targets:
                    cell, problems = run_cell(world, route, rule, caller, target)
                    cells.append(cell)
                    shown += problems
        world.client.close()
        keys = [c.headers["Authorization"].split(" ", 1)[1] for c in world.callers
                if c.headers.get("Authorization", "").startswith("Bearer tw_")]
        found = Matrix(cells, shown, live.log(), keys)
        wrong = [c for c in cells if c.wrong]
        print(f"\nauthorization matrix ({request.param}): {len(cells)} cells ({len(RULES)} routes x "
              f"{len(world.callers)} identities x their targets); {len(found.leaks)} leaks, {len(wrong)} wrong "
              f"statuses, {len(shown)} wrong lists")
        for line in [*map(str, wrong), *shown]:
            print("  " + line)
        yield found


def test_every_route_has_a_rule(tmp_path: Path) -> None:
    assert not unruled(tmp_path), f"new endpoint without a rule in tests/auth/matrix_rules.py: {unruled(tmp_path)}"
    stale = sorted(RULES.keys() - set(routes(tmp_path)))
    assert not stale, f"rules for routes the server no longer has: {stale}"


def test_no_leaks_and_every_status_as_documented(matrix: Matrix) -> None:
    assert not matrix.leaks, f"{len(matrix.leaks)} leaks:\n" + "\n".join(matrix.leaks)
    wrong = [str(c) for c in matrix.cells if c.wrong]
    assert not wrong and not matrix.shown, "\n".join([*wrong, *matrix.shown])


def test_no_server_errors_and_no_keys_in_the_log(matrix: Matrix) -> None:
    errors = [line for line in matrix.log.splitlines() if re.search(r"Traceback| 5\d\d [\d.]+ms", line)]
    assert not errors, "server errors during the matrix:\n" + "\n".join(errors[:20])
    assert matrix.log.count(" 401 ") > 100 and len(matrix.keys) > 10
    shown = [key[:11] for key in matrix.keys if key in matrix.log or key.split("_", 2)[2] in matrix.log]
    assert not shown, f"keys in the server log: {shown}"


def normalized(text: str) -> str:
    """A refusal's text without the names in it (quoted, or paths)."""
    text = re.sub(r"'[^']*'", "'…'", text)
    return re.sub(r"[\w.-]+(?:/[\w.-]+)+", "…", text)


def test_a_hidden_thing_is_refused_in_the_words_of_a_missing_one(matrix: Matrix) -> None:
    """For each route and caller, the 404s of targets the caller may not know of read alike
    (names aside): the text must not tell hidden from missing either."""
    texts: dict[tuple[tuple[str, str], str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for cell in matrix.cells:
        if cell.status == 404 and not cell.seen:
            texts[cell.route, cell.caller][normalized(cell.text)].append(cell.target)
    differing = [f"{route[0]} {route[1]} as {caller}: " + " | ".join(f"{sorted(set(t))}: {text[:160]}"
                                                                   for text, t in variants.items())
                 for (route, caller), variants in texts.items() if len(variants) > 1]
    print(f"\n{len(differing)} (route, caller) pairs whose 404s tell hidden from missing")
    assert not differing, "\n".join(differing)
