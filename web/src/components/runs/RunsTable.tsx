import {
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type Row,
  type RowSelectionState,
} from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { Link, useNavigate } from "react-router-dom";
import type { Run } from "../../api/types";
import { formatDuration, formatTime, formatValue } from "../format";
import { StateBadge } from "../StateBadge";
import { parseOrder, valueAt, type ColumnSpec } from "./columns";
import { groupItems, type Item } from "./grouping";

const ROW_HEIGHT = 30;
const SELECT_WIDTH = 36;

interface Props {
  entity: string;
  project: string;
  runs: Run[];
  columns: ColumnSpec[];
  order: string;
  onHeaderClick: (columnId: string) => void;
  selection: RowSelectionState;
  onSelectionChange: (selection: RowSelectionState) => void;
  groupBy: string;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
}

export const runPath = (run: Run) =>
  `/${encodeURIComponent(run.entity)}/${encodeURIComponent(run.project)}/runs/${encodeURIComponent(run.id)}`;

function renderCell(run: Run, id: string): ReactNode {
  const value = valueAt(run, id);
  switch (id) {
    case "name":
      return <Link to={runPath(run)} tabIndex={-1}>{run.name || run.id}</Link>;
    case "state":
      return <StateBadge state={run.state} />;
    case "created_at":
    case "updated_at":
      return formatTime(value as number | null);
    case "runtime":
      return formatDuration(value as number | null);
    case "tags":
      return run.tags.map((tag) => <span key={tag} className="tag">{tag}</span>);
    default:
      return formatValue(value);
  }
}

/** The project's runs: a virtualized grid (100k rows stay smooth) that asks for the next page as
 * the end comes into view. Sorting is the server's (a header click changes `order`). Keyboard:
 * arrows/Page/Home/End move between rows, Enter opens the run, Space selects it. */
export function RunsTable(props: Props) {
  const { runs, columns, order, selection, groupBy, hasMore, loadingMore, loadMore } = props;
  const navigate = useNavigate();
  const scrollRef = useRef<HTMLDivElement>(null);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [focused, setFocused] = useState(0);
  const focusAfterRender = useRef(false);

  const columnDefs = useMemo<ColumnDef<Run>[]>(
    () => columns.map((spec) => ({ id: spec.id, header: spec.label, size: spec.width, accessorFn: (r) => valueAt(r, spec.id) })),
    [columns],
  );
  const table = useReactTable({
    data: runs,
    columns: columnDefs,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (run) => run.id,
    manualSorting: true,
    enableRowSelection: true,
    state: { rowSelection: selection },
    onRowSelectionChange: (updater) =>
      props.onSelectionChange(typeof updater === "function" ? updater(selection) : updater),
  });
  const rows = table.getRowModel().rows;
  const items: Item<Row<Run>>[] = useMemo(
    () => groupItems(rows, groupBy, (row) => valueAt(row.original, groupBy), collapsed),
    [rows, groupBy, collapsed],
  );

  const virtualizer = useVirtualizer({
    count: items.length + (hasMore ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 20,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const lastIndex = virtualItems.length ? virtualItems[virtualItems.length - 1].index : 0;
  useEffect(() => {
    if (hasMore && !loadingMore && lastIndex >= items.length - 40) loadMore();
  }, [lastIndex, items.length, hasMore, loadingMore, loadMore]);

  useEffect(() => {
    if (!focusAfterRender.current) return;
    focusAfterRender.current = false;
    scrollRef.current?.querySelector<HTMLElement>(`[data-index="${focused}"]`)?.focus();
  });

  const template = `${SELECT_WIDTH}px ${columns.map((c) => `${c.width}px`).join(" ")}`;
  const width = SELECT_WIDTH + columns.reduce((sum, c) => sum + c.width, 0);
  const sorted = parseOrder(order);

  const moveTo = (index: number) => {
    const next = Math.max(0, Math.min(items.length - 1, index));
    setFocused(next);
    virtualizer.scrollToIndex(next);
    focusAfterRender.current = true;
  };
  const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 600) / ROW_HEIGHT) - 1);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (!(event.target as HTMLElement).matches("[role=row]")) return;
    const item = items[focused];
    const moves: Record<string, number> = {
      ArrowDown: focused + 1, ArrowUp: focused - 1, PageDown: focused + page, PageUp: focused - page,
      Home: 0, End: items.length - 1,
    };
    if (event.key in moves) moveTo(moves[event.key]);
    else if (event.key === "Enter" && item?.kind === "row") navigate(runPath(item.row.original));
    else if (event.key === "Enter" && item?.kind === "group") toggleGroup(item.key);
    else if (event.key === " " && item?.kind === "row") item.row.toggleSelected();
    else return;
    event.preventDefault();
  };
  const toggleGroup = (key: string) =>
    setCollapsed((now) => {
      const next = new Set(now);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  return (
    <div className="runs-grid" ref={scrollRef} role="grid" aria-label="Runs" aria-rowcount={hasMore ? -1 : items.length + 1}
      aria-colcount={columns.length + 1} aria-multiselectable onKeyDown={onKeyDown}>
      <div role="rowgroup" className="grid-head" style={{ width }}>
        <div role="row" aria-rowindex={1} className="grid-row" style={{ gridTemplateColumns: template }}>
          <div role="columnheader" className="cell select">
            <input type="checkbox" aria-label="Select all loaded runs" checked={table.getIsAllRowsSelected()}
              ref={(el) => { if (el) el.indeterminate = table.getIsSomeRowsSelected(); }}
              onChange={table.getToggleAllRowsSelectedHandler()} />
          </div>
          {columns.map((column) => {
            const active = sorted.id === column.id;
            return (
              <div key={column.id} role="columnheader" className="cell"
                aria-sort={active ? (sorted.desc ? "descending" : "ascending") : "none"}>
                {column.sortable ? (
                  <button type="button" className="sort" title={`Sort by ${column.id}`}
                    onClick={() => props.onHeaderClick(column.id)}>
                    {/^(config|summary)\./.test(column.id) && <span className="key-source">{column.id.split(".")[0]} </span>}
                    {column.label}
                    <span aria-hidden="true">{active ? (sorted.desc ? " ▼" : " ▲") : ""}</span>
                  </button>
                ) : column.label}
              </div>
            );
          })}
        </div>
      </div>
      <div role="rowgroup" className="grid-body" style={{ height: virtualizer.getTotalSize(), width }}>
        {virtualItems.map((virtual) => {
          const item = items[virtual.index];
          const style = { transform: `translateY(${virtual.start}px)`, height: ROW_HEIGHT, width };
          const common = {
            "data-index": virtual.index,
            role: "row",
            "aria-rowindex": virtual.index + 2,
            tabIndex: virtual.index === focused ? 0 : -1,
            onFocus: () => setFocused(virtual.index),
          };
          if (!item) {
            return (
              <div key="more" className="grid-row loading-row" role="row" style={style}>
                <div role="gridcell" className="cell">{loadingMore ? "Loading more runs…" : ""}</div>
              </div>
            );
          }
          if (item.kind === "group") {
            const open = !collapsed.has(item.key);
            return (
              <div key={`g:${item.key}`} {...common} className="grid-row group-row" style={style}>
                <div role="gridcell" className="cell" style={{ gridColumn: "1 / -1" }}>
                  <button type="button" tabIndex={-1} aria-expanded={open} onClick={() => toggleGroup(item.key)}>
                    {open ? "▾" : "▸"} {groupBy}: <strong>{item.label}</strong> ({item.count})
                  </button>
                </div>
              </div>
            );
          }
          const run = item.row.original;
          const selected = item.row.getIsSelected();
          return (
            <div key={run.id} {...common} aria-selected={selected}
              className={`grid-row${selected ? " selected" : ""}`}
              style={{ ...style, gridTemplateColumns: template }}>
              <div role="gridcell" className="cell select">
                <input type="checkbox" tabIndex={-1} aria-label={`Select run ${run.name || run.id}`}
                  checked={selected} onChange={item.row.getToggleSelectedHandler()} />
              </div>
              {columns.map((column) => (
                <div key={column.id} role="gridcell" className={`cell col-${column.id.replace(/\W/g, "_")}`}>
                  {renderCell(run, column.id)}
                </div>
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}
