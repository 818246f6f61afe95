import { useEffect, useId, useState, type FormEvent } from "react";
import {
  fromFilter,
  OPERATORS,
  RUN_STATES,
  TAG_OPERATORS,
  toFilter,
  type Combinator,
  type Condition,
  type FilterModel,
  type Operator,
} from "./model";

interface Props {
  /** The applied filter (REST filter JSON) or null. */
  value: unknown;
  onApply: (filter: Record<string, unknown> | null) => void;
  /** Field names to suggest: columns, config.<path>, summary.<key>. */
  fields: string[];
}

const emptyCondition = (): Condition => ({ field: "", op: "$eq", text: "" });

/** Rows of field / operator / value that build the REST filter language; anything the rows cannot
 * show (nested $and/$or) is edited as JSON. Applied on submit, not on every keystroke. */
export function FilterBuilder({ value, onApply, fields }: Props) {
  const id = useId();
  const [model, setModel] = useState<FilterModel>(() => fromFilter(value) ?? { combinator: "$and", conditions: [] });
  const [json, setJson] = useState<string | null>(() => (fromFilter(value) ? null : JSON.stringify(value, null, 2)));
  const [jsonError, setJsonError] = useState<string | null>(null);

  useEffect(() => {
    // the applied filter changed (URL, back button, Apply): show it, in the JSON editor if that is
    // open or the rows cannot show it
    const parsed = fromFilter(value);
    if (parsed) setModel(parsed);
    const text = JSON.stringify(value ?? {}, null, 2);
    setJson((open) => (open === null && parsed ? null : text));
  }, [JSON.stringify(value ?? null)]);

  const update = (index: number, change: Partial<Condition>) =>
    setModel((m) => ({ ...m, conditions: m.conditions.map((c, i) => (i === index ? { ...c, ...change } : c)) }));
  const remove = (index: number) =>
    setModel((m) => ({ ...m, conditions: m.conditions.filter((_, i) => i !== index) }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (json === null) {
      onApply(toFilter(model));
      return;
    }
    try {
      const parsed: unknown = json.trim() ? JSON.parse(json) : null;
      if (parsed !== null && (typeof parsed !== "object" || Array.isArray(parsed)))
        throw new Error("filters must be a JSON object");
      setJsonError(null);
      onApply(parsed as Record<string, unknown> | null);
    } catch (caught) {
      setJsonError(`Not valid filter JSON: ${(caught as Error).message}`);
    }
  };

  const editJson = () => setJson(JSON.stringify(toFilter(model) ?? {}, null, 2));
  const editRows = () => {
    try {
      const parsed = fromFilter(json?.trim() ? JSON.parse(json) : null);
      if (!parsed) {
        setJsonError("This filter is nested deeper than the rows can show; edit it as JSON.");
        return;
      }
      setModel(parsed);
      setJson(null);
      setJsonError(null);
    } catch (caught) {
      setJsonError(`Not valid filter JSON: ${(caught as Error).message}`);
    }
  };

  const preview = json === null ? toFilter(model) : null;
  return (
    <form className="filter-builder" onSubmit={submit} aria-label="Filter runs">
      <datalist id={`${id}-fields`}>
        {fields.map((f) => (
          <option key={f} value={f} />
        ))}
      </datalist>
      <datalist id={`${id}-states`}>
        {RUN_STATES.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      {json === null ? (
        <>
          {model.conditions.length > 1 && (
            <span className="combinator">
              <label htmlFor={`${id}-combinator`}>Match</label>
              <select id={`${id}-combinator`} value={model.combinator}
                onChange={(e) => setModel({ ...model, combinator: e.target.value as Combinator })}>
                <option value="$and">all conditions</option>
                <option value="$or">any condition</option>
              </select>
            </span>
          )}
          {model.conditions.map((condition, index) => (
            <ConditionRow key={index} index={index} condition={condition} listId={id}
              onChange={(change) => update(index, change)} onRemove={() => remove(index)} />
          ))}
          <div className="filter-actions">
            <button type="button" onClick={() => setModel({ ...model, conditions: [...model.conditions, emptyCondition()] })}>
              + Add filter
            </button>
            <button type="submit" className="primary">Apply</button>
            {model.conditions.length > 0 && (
              <button type="button" onClick={() => { setModel({ combinator: "$and", conditions: [] }); onApply(null); }}>
                Clear
              </button>
            )}
            <button type="button" className="link-button" onClick={editJson}>Edit as JSON</button>
            {preview && <code className="filter-json" aria-label="Filter as JSON">{JSON.stringify(preview)}</code>}
          </div>
        </>
      ) : (
        <>
          <label className="filter-json-editor">
            Filter JSON (the REST <code>filters</code> language)
            <textarea rows={4} value={json} spellCheck={false} onChange={(e) => setJson(e.target.value)} />
          </label>
          <div className="filter-actions">
            <button type="submit" className="primary">Apply</button>
            <button type="button" className="link-button" onClick={editRows}>Edit as rows</button>
          </div>
        </>
      )}
      {jsonError && <p className="error" role="alert">{jsonError}</p>}
    </form>
  );
}

interface RowProps {
  index: number;
  condition: Condition;
  listId: string;
  onChange: (change: Partial<Condition>) => void;
  onRemove: () => void;
}

function ConditionRow({ index, condition, listId, onChange, onRemove }: RowProps) {
  const operators = condition.field.trim() === "tags" ? TAG_OPERATORS : OPERATORS;
  const n = index + 1;
  return (
    <div className="filter-row" role="group" aria-label={`Condition ${n}`}>
      <input aria-label={`Field of condition ${n}`} list={`${listId}-fields`} placeholder="field, e.g. summary.loss"
        value={condition.field} onChange={(e) => onChange({ field: e.target.value })} />
      <select aria-label={`Operator of condition ${n}`} value={condition.op}
        onChange={(e) => onChange({ op: e.target.value as Operator })}>
        {operators.map((o) => (
          <option key={o.op} value={o.op}>{o.label}</option>
        ))}
      </select>
      {condition.op === "$exists" ? (
        <select aria-label={`Value of condition ${n}`} value={condition.text === "false" ? "false" : "true"}
          onChange={(e) => onChange({ text: e.target.value })}>
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      ) : (
        <input aria-label={`Value of condition ${n}`}
          list={condition.field.trim() === "state" ? `${listId}-states` : undefined}
          placeholder={["$in", "$nin", "$all"].includes(condition.op) ? "a, b, c" : "value"}
          value={condition.text} onChange={(e) => onChange({ text: e.target.value })} />
      )}
      <button type="button" aria-label={`Remove condition ${n}`} onClick={onRemove}>×</button>
    </div>
  );
}
