import { useId, useState } from "react";
import { FIXED_COLUMNS, OPTIONAL_RUN_COLUMNS } from "./columns";

interface Props {
  visible: string[];
  onChange: (visible: string[]) => void;
  configKeys: string[];
  summaryKeys: string[];
}

const SHOWN_PER_SECTION = 200; // a search narrows longer lists

/** Which columns the table shows: run fields, and the config.* / summary.* keys of loaded runs. */
export function ColumnPicker({ visible, onChange, configKeys, summaryKeys }: Props) {
  const id = useId();
  const [search, setSearch] = useState("");
  const shown = new Set(visible);
  const toggle = (column: string) =>
    onChange(shown.has(column) ? visible.filter((c) => c !== column) : [...visible, column]);
  const matches = (key: string) => key.toLowerCase().includes(search.trim().toLowerCase());
  const sections: [string, string[]][] = [
    ["Run", [...FIXED_COLUMNS, ...OPTIONAL_RUN_COLUMNS].map((c) => c.id)],
    ["Config", configKeys],
    ["Summary", summaryKeys],
  ];
  return (
    <details className="column-picker">
      <summary>Columns ({visible.length})</summary>
      <div className="popover">
        <label>
          <span className="visually-hidden">Search columns</span>
          <input type="search" placeholder="Search columns" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        {sections.map(([title, keys]) => {
          const found = keys.filter(matches);
          return (
            <fieldset key={title}>
              <legend>{title}</legend>
              {found.length === 0 && <p className="empty">none</p>}
              {found.slice(0, SHOWN_PER_SECTION).map((key) => (
                <label key={key} className="check">
                  <input type="checkbox" checked={shown.has(key)} onChange={() => toggle(key)}
                    id={`${id}-${key}`} />
                  {key}
                </label>
              ))}
              {found.length > SHOWN_PER_SECTION && <p className="empty">{found.length - SHOWN_PER_SECTION} more: search</p>}
            </fieldset>
          );
        })}
      </div>
    </details>
  );
}
