"""The seed's examples (``../shared/seeds/003_*.txt``) with ``trackwell`` for ``wandb``, against a
real server; notifications to a Slack-compatible receiver; artifact events (written to the outbox
by the artifacts issue: here inserted into the server's database directly) firing automations."""

from __future__ import annotations

import time

import sqlalchemy as sa
from receiver import Receiver
from servers import LiveServer, http

from trackwell import Api
from trackwell.automations import (
    ArtifactEvent,
    OnAddArtifactAlias,
    OnLinkArtifact,
    SendWebhook,
    WebhookIntegration,
)


def test_seed_examples(hook_server: LiveServer, receiver: Receiver, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("TRACKWELL_BASE_URL", hook_server.url)
    assert http.post(f"{hook_server.url}/api/v1/teams", json={"name": "entity"}).status_code == 200
    _log_to(hook_server, "entity", "project", [{"accuracy": 0.5}])  # the project exists (has a run)
    webhook_receiver = receiver  # one receiver for the seed's Slack and webhook integrations
    # -- the seed, "Configuration" --
    from trackwell.automations import SendNotification, SlackIntegration

    slack = SlackIntegration(
        webhook_url=receiver.url
    )
    notification = SendNotification.from_integration(
        integration=slack,
        title="ML Alert",
        text="Training completed",
        level="INFO"
    )
    # -- the seed, "Example Usage" (wandb.login() is `trackwell login`, done by the fixture) --
    from trackwell.automations import MetricThresholdFilter, OnRunMetric, SendNotification

    automation = OnRunMetric(
        filter=MetricThresholdFilter(
            name="accuracy",
            cmp=">",
            threshold=0.95
        ),
        scope="entity/project"
    ).then(
        SendNotification(
            title="High Accuracy Achieved",
            message="Model accuracy exceeded 95%",
            severity="INFO"
        )
    )
    # (the seed's SendNotification has no integration: the entity's Slack integration, saved here)
    OnRunMetric(filter=MetricThresholdFilter(name="never", cmp="<", threshold=0), scope="entity/project").then(
        notification).save(name="config-example")
    automation.save(name="accuracy-alert", enabled=True)

    from trackwell.automations import OnCreateArtifact, SendWebhook, WebhookIntegration

    webhook_integration = WebhookIntegration(name="models-hook", url=webhook_receiver.url)
    artifact_automation = OnCreateArtifact(
        scope="entity/project/artifact-collection"
    ).then(
        SendWebhook.from_integration(
            integration=webhook_integration,
            payload={"event": "new_artifact", "collection": "models"}
        )
    )
    artifact_automation.save(
        name="model-webhook",
        description="Notify external service on new model creation",
        enabled=True
    )
    from trackwell import Api
    api = Api()
    automations = api.project("entity/project").automations()
    shown = []
    for auto in automations:
        shown.append((auto.name, auto.enabled, auto.event.event_type))
    assert shown == [("config-example", True, "RUN_METRIC"), ("accuracy-alert", True, "RUN_METRIC"),
                     ("model-webhook", True, "CREATE_ARTIFACT")]

    # the accuracy alert fires, as a Slack-shaped notification to the entity's Slack integration
    _log_to(hook_server, "entity", "project", [{"accuracy": 0.9}, {"accuracy": 0.97}])
    got = receiver.wait_for(1)
    assert got[0].json["text"] == "[INFO] High Accuracy Achieved\nModel accuracy exceeded 95%"
    assert got[0].json["attachments"][0]["title"] == "High Accuracy Achieved"
    assert "webhook-signature" not in got[0].headers  # a Slack URL has no signing secret

    # a new version logged to the collection: the seed's artifact webhook
    import trackwell

    monkeypatch.chdir(tmp_path)
    run = trackwell.init(entity="entity", project="project", dir=str(tmp_path), reinit=True,
                         settings={"quiet": True, "console": "off"})
    model = trackwell.Artifact("artifact-collection", "model")
    with model.new_file("weights.txt") as f:
        f.write("0.1 0.2")
    run.log_artifact(model).wait(30)
    run.finish()
    assert receiver.wait_for(2)[1].json == {"event": "new_artifact", "collection": "models"}


def _log_to(server: LiveServer, entity: str, project: str, rows: list[dict[str, float]]) -> str:
    import uuid

    from trackwell.schema import Batch, History, RunStart, encode

    run_id = uuid.uuid4().hex[:8]
    records = [RunStart(seq=1, ts=0.0, entity=entity, project=project, run_id=run_id),
               *(History(seq=2 + i, ts=0.0, step=i, runtime=0.0, data=row) for i, row in enumerate(rows))]
    r = http.post(f"{server.url}/api/v1/runs/{entity}/{project}/{run_id}/records",
                  content=encode(Batch(writer=uuid.uuid4().hex, records=records)),
                  headers={"Content-Type": "application/msgpack"})
    assert r.status_code == 200, r.text
    return run_id


def _artifact_event(server: LiveServer, kind: str, payload: dict, actor: str = "alice") -> None:
    """An artifact event inserted straight into the server's SQLite outbox, in the documented
    contract's shape (fields the artifacts store does not write yet: aliases lists, metadata)."""
    engine = sa.create_engine(f"sqlite:///{server.data_dir / 'trackwell.db'}", connect_args={"timeout": 30})
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO events (kind, run_pk, payload, created_at, actor) "
                             "VALUES (:k, NULL, :p, :t, :a)"),
                     {"k": kind, "p": __import__("json").dumps(payload), "t": time.time(), "a": actor})
    engine.dispose()


def test_artifact_events_link_and_alias(hook_server: LiveServer, receiver: Receiver) -> None:
    api = Api(base_url=hook_server.url)
    hook = api.create_integration(WebhookIntegration(name="reg", url=receiver.url))
    e = hook_server.entity
    api.create_automation(OnLinkArtifact(scope=f"{e}/registry", filter=ArtifactEvent.alias.eq("prod"))
                          >> SendWebhook.from_integration(hook, payload={"linked": "${artifact_version_string}",
                                                                          "by": "${event_author}"}), name="link")
    api.create_automation(OnAddArtifactAlias(scope=f"{e}/proj/models", filter=ArtifactEvent.alias.matches_regex("^v"))
                          >> SendWebhook.from_integration(hook, payload={"alias": "${alias}", "type": "${event_type}",
                                                                          "acc": "${artifact_metadata.acc}"}),
                          name="alias")
    base = {"artifact_name": "m", "artifact_type": "model"}
    _artifact_event(hook_server, "artifact_linked", {**base, "entity": e, "project": "registry", "collection": "best",
                                                     "aliases": ["staging"], "version_string": f"{e}/proj/m:v1"})
    _artifact_event(hook_server, "artifact_linked", {**base, "entity": e, "project": "registry", "collection": "best",
                                                     "aliases": ["prod", "latest"], "version_string": f"{e}/proj/m:v2"})
    _artifact_event(hook_server, "artifact_alias_added", {**base, "entity": e, "project": "proj", "collection": "other",
                                                          "alias": "v9"})  # another collection
    _artifact_event(hook_server, "artifact_alias_added", {**base, "entity": e, "project": "proj", "collection": "models",
                                                          "alias": "best"})  # no match
    _artifact_event(hook_server, "artifact_alias_added", {**base, "entity": e, "project": "proj", "collection": "models",
                                                          "alias": "v3", "metadata": {"acc": 0.91}})
    got = receiver.wait_for(2)
    time.sleep(1.5)
    assert sorted((r.json for r in receiver.received), key=str) == sorted([
        {"linked": f"{e}/proj/m:v2", "by": "alice"}, {"alias": "v3", "type": "ADD_ARTIFACT_ALIAS", "acc": 0.91}], key=str)
    assert len(got) == 2


def test_run_alert_notifies_the_default_channel_throttled_per_title(
        hook_server: LiveServer, receiver: Receiver, monkeypatch, tmp_path) -> None:
    import trackwell
    from trackwell.automations import SlackIntegration

    monkeypatch.setenv("TRACKWELL_BASE_URL", hook_server.url)
    monkeypatch.chdir(tmp_path)
    api = Api(base_url=hook_server.url)
    api.create_integration(SlackIntegration(name="team-chat", webhook_url=receiver.url))
    run = trackwell.init(project="alerts", name="night", dir=str(tmp_path))
    try:
        assert run.alert("Loss diverged", "loss is NaN at step 7", level="ERROR") is True
        assert run.alert("Loss diverged", "again", level="ERROR") is False  # within a minute: throttled
        assert trackwell.alert(title="Checkpoint", text="saved", wait_duration=0) is True
        got = receiver.wait_for(2)
    finally:
        run.finish()
    texts = sorted(r.json["text"] for r in got)
    assert texts == ["[ERROR] Loss diverged\nloss is NaN at step 7", "[INFO] Checkpoint\nsaved"]
    alerts = api.automation("run-alerts-alerts")
    assert alerts.event.event_type == "RUN_ALERT" and len(api.automation_deliveries(alerts)) == 2
    time.sleep(1.0)
    assert len(receiver.received) == 2


def test_artifact_automations_with_the_real_artifacts(hook_server: LiveServer, receiver: Receiver, monkeypatch,
                                                      tmp_path) -> None:
    """The artifacts the SDK logs and links (h-arts) fire create, alias and link automations."""
    import trackwell
    from trackwell.automations import OnCreateArtifact

    monkeypatch.setenv("TRACKWELL_BASE_URL", hook_server.url)
    monkeypatch.chdir(tmp_path)
    e = hook_server.entity
    api = Api(base_url=hook_server.url)
    hook = api.create_integration(WebhookIntegration(name="arts", url=receiver.url))
    api.create_automation(OnCreateArtifact(scope=f"{e}/arts/mnist") >> SendWebhook.from_integration(
        hook, payload={"created": "${artifact_version_string}", "by": "${event_author}"}), name="created")
    api.create_automation(OnAddArtifactAlias(scope=f"{e}/arts/mnist", filter=ArtifactEvent.alias.eq("best"))
                          >> SendWebhook.from_integration(hook, payload={"alias": "${alias}", "v": "${artifact_version}"}),
                          name="best")
    api.create_automation(OnLinkArtifact(scope=f"{e}/registry", filter=ArtifactEvent.alias.eq("prod"))
                          >> SendWebhook.from_integration(hook, payload={"linked": "${artifact_collection_name}"}),
                          name="prod-link")
    run = trackwell.init(project="arts", dir=str(tmp_path), settings={"quiet": True, "console": "off"}, reinit=True)
    art = trackwell.Artifact("mnist", "dataset")
    with art.new_file("a.txt") as f:
        f.write("alpha")
    run.log_artifact(art, aliases=["best"]).wait(30)
    run.link_artifact(art, "registry/golden", aliases=["prod"])
    run.link_artifact(art, "registry/other", aliases=["staging"])  # not prod: no firing
    run.finish()
    receiver.wait_for(3)
    time.sleep(1.5)
    assert sorted((r.json for r in receiver.received), key=str) == sorted([
        {"created": f"{e}/arts/mnist:v0", "by": e}, {"alias": "best", "v": "v0"}, {"linked": "golden"}], key=str)
