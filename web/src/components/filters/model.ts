// The filter builder's model: rows of (field, operator, text) <-> the REST filter language
// (MongoDB-style JSON: `{"$and": [{"summary.loss": {"$lt": 0.5}}, {"state": "running"}]}`).

export type Operator = "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" | "$regex" | "$in" | "$nin" | "$exists" | "$all";

export interface Condition {
  field: string;
  op: Operator;
  /** What the user typed: a value, a comma-separated list for $in/$nin/$all, true/false for $exists. */
  text: string;
}

export type Combinator = "$and" | "$or";

export interface FilterModel {
  combinator: Combinator;
  conditions: Condition[];
}

export const OPERATORS: { op: Operator; label: string }[] = [
  { op: "$eq", label: "=" },
  { op: "$ne", label: "≠" },
  { op: "$gt", label: ">" },
  { op: "$gte", label: "≥" },
  { op: "$lt", label: "<" },
  { op: "$lte", label: "≤" },
  { op: "$regex", label: "matches regex" },
  { op: "$in", label: "is one of" },
  { op: "$nin", label: "is none of" },
  { op: "$exists", label: "exists" },
];

export const TAG_OPERATORS: { op: Operator; label: string }[] = [
  { op: "$eq", label: "has" },
  { op: "$ne", label: "has not" },
  { op: "$in", label: "has any of" },
  { op: "$all", label: "has all of" },
  { op: "$nin", label: "has none of" },
  { op: "$regex", label: "has one matching" },
  { op: "$exists", label: "has any tag" },
];

export const RUN_STATES = ["running", "finished", "failed", "crashed", "killed", "preempting", "preempted"];

/** The run columns a filter may name (besides config.<path> and summary.<key>). */
export const TEXT_FIELDS = ["name", "state", "group", "job_type", "tags", "id", "host", "program", "notes"];
export const NUMBER_FIELDS = ["runtime", "exit_code"];
export const TIME_FIELDS = ["created_at", "updated_at", "heartbeat_at"];

const LIST_OPS = new Set<Operator>(["$in", "$nin", "$all"]);

/** A typed value from text. Columns have a type; config and summary values are JSON-ish:
 * numbers, true/false, null, "quoted text", else the text itself. */
export function parseValue(field: string, text: string): unknown {
  const trimmed = text.trim();
  if (TEXT_FIELDS.includes(field)) return trimmed;
  if (NUMBER_FIELDS.includes(field)) return trimmed === "" ? trimmed : Number(trimmed);
  if (TIME_FIELDS.includes(field)) return isNumber(trimmed) ? Number(trimmed) : trimmed; // ISO 8601 or Unix seconds
  if (isNumber(trimmed)) return Number(trimmed);
  if (trimmed === "true" || trimmed === "false") return trimmed === "true";
  if (trimmed === "null") return null;
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1);
  return trimmed;
}

function isNumber(text: string): boolean {
  return text !== "" && Number.isFinite(Number(text));
}

/** The text that parses back to ``value`` for ``field``. */
export function valueText(field: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => valueText(field, v)).join(", ");
  if (typeof value === "string") {
    const typed = !TEXT_FIELDS.includes(field) && !TIME_FIELDS.includes(field);
    const ambiguous = isNumber(value.trim()) || ["true", "false", "null"].includes(value.trim()) || /^".*"$/.test(value);
    return typed && ambiguous ? `"${value}"` : value;
  }
  return value === null ? "null" : String(value);
}

export function isComplete(condition: Condition): boolean {
  return condition.field.trim() !== "" && (condition.op === "$exists" || condition.text.trim() !== "");
}

export function conditionFilter(condition: Condition): Record<string, unknown> {
  const field = condition.field.trim();
  let value: unknown;
  if (condition.op === "$exists") value = condition.text.trim() !== "false";
  else if (LIST_OPS.has(condition.op))
    value = condition.text.split(",").filter((part) => part.trim() !== "").map((part) => parseValue(field, part));
  else if (condition.op === "$regex") value = condition.text;
  else value = parseValue(field, condition.text);
  return { [field]: condition.op === "$eq" ? value : { [condition.op]: value } };
}

/** The REST `filters` JSON, or null when no condition is complete. */
export function toFilter(model: FilterModel): Record<string, unknown> | null {
  const parts = model.conditions.filter(isComplete).map(conditionFilter);
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0];
  return { [model.combinator]: parts };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fieldConditions(field: string, spec: unknown): Condition[] | null {
  if (field.startsWith("$")) return null;
  const ops = isPlainObject(spec) && Object.keys(spec).length > 0 && Object.keys(spec).every((k) => k.startsWith("$"))
    ? spec
    : { $eq: spec };
  const out: Condition[] = [];
  for (const [op, value] of Object.entries(ops)) {
    const known = [...OPERATORS, ...TAG_OPERATORS].some((o) => o.op === op);
    if (!known || isPlainObject(value)) return null;
    if (Array.isArray(value) !== LIST_OPS.has(op as Operator)) return null;
    const text = op === "$exists" ? String(Boolean(value)) : op === "$regex" ? String(value) : valueText(field, value);
    out.push({ field, op: op as Operator, text });
  }
  return out;
}

function objectConditions(spec: Record<string, unknown>): Condition[] | null {
  const out: Condition[] = [];
  for (const [field, value] of Object.entries(spec)) {
    const conditions = fieldConditions(field, value);
    if (conditions === null) return null;
    out.push(...conditions);
  }
  return out;
}

/** The builder's rows for a filter it can show (one level of $and or $or over field conditions);
 * null for anything deeper, which the page edits as JSON instead. */
export function fromFilter(filter: unknown): FilterModel | null {
  if (filter === null || filter === undefined) return { combinator: "$and", conditions: [] };
  if (!isPlainObject(filter)) return null;
  const keys = Object.keys(filter);
  if (keys.length === 1 && (keys[0] === "$and" || keys[0] === "$or")) {
    const list = filter[keys[0]];
    if (!Array.isArray(list)) return null;
    const conditions: Condition[] = [];
    for (const item of list) {
      if (!isPlainObject(item)) return null;
      const found = objectConditions(item);
      if (found === null || (keys[0] === "$or" && found.length !== 1)) return null;
      conditions.push(...found);
    }
    return { combinator: keys[0], conditions };
  }
  const conditions = objectConditions(filter);
  return conditions === null ? null : { combinator: "$and", conditions };
}
