// A run's media tab: the images its history references (a grid, by key, newest step last),
// its tables (rows, image cells shown) and histograms (bars), loaded from the run's files.

import { errorText } from "../ErrorMessage";
import { formatValue } from "../format";
import {
  fileUrl, isMedia, useRunMedia, useTable, type FileMediaRef, type HistogramValue, type ImageRef, type TableRef,
} from "./api";
import "./files.css";

type Where = { entity: string; project: string; runId: string };

function Picture({ where, image }: { where: Where; image: ImageRef }) {
  return (
    <figure className="media-image">
      <img src={fileUrl(where.entity, where.project, where.runId, image.path)} width={image.width}
           height={image.height} alt={image.caption ?? image.path} loading="lazy" />
      {image.caption && <figcaption>{image.caption}</figcaption>}
    </figure>
  );
}

function TableView({ where, table }: { where: Where; table: TableRef }) {
  const query = useTable(fileUrl(where.entity, where.project, where.runId, table.path));
  if (query.isPending) return <p className="loading">Loading table…</p>;
  if (query.isError) return <p className="error" role="alert">{errorText(query.error)}</p>;
  return (
    <table className="media-table">
      <thead><tr>{query.data.columns.map((c) => <th key={c}>{c}</th>)}</tr></thead>
      <tbody>
        {query.data.data.map((row, i) => (
          <tr key={i}>
            {row.map((cell, j) => (
              <td key={j}>{isMedia(cell) && cell._type === "image-file"
                ? <Picture where={where} image={cell} /> : formatValue(cell)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Audio and video play in the page; HTML and 3-D files are offered as downloads (a user's HTML
 *  never runs in this origin). */
function FileMedia({ where, media }: { where: Where; media: FileMediaRef }) {
  const url = fileUrl(where.entity, where.project, where.runId, media.path);
  const label = media.caption ?? media.path.split("/").pop();
  if (media._type === "audio-file") return <figure className="media-file"><audio controls src={url} aria-label={label} />
    {media.caption && <figcaption>{media.caption}</figcaption>}</figure>;
  if (media._type === "video-file" && media.path.endsWith(".gif")) {
    return <figure className="media-image"><img src={url} alt={label} loading="lazy" />
      {media.caption && <figcaption>{media.caption}</figcaption>}</figure>;
  }
  if (media._type === "video-file") return <figure className="media-file"><video controls src={url} aria-label={label} />
    {media.caption && <figcaption>{media.caption}</figcaption>}</figure>;
  return <a href={url} download>{label}</a>;
}

function Bars({ histogram }: { histogram: HistogramValue }) {
  const top = Math.max(1, ...histogram.values);
  const lo = histogram.bins[0];
  const hi = histogram.bins[histogram.bins.length - 1];
  return (
    <figure className="media-histogram">
      <svg viewBox={`0 0 ${histogram.values.length} 40`} preserveAspectRatio="none" role="img"
           aria-label={`histogram of ${histogram.values.length} bins from ${formatValue(lo)} to ${formatValue(hi)}`}>
        {histogram.values.map((v, i) => <rect key={i} x={i + 0.05} width={0.9} y={40 - (40 * v) / top} height={(40 * v) / top} />)}
      </svg>
      <figcaption className="muted">{formatValue(lo)} … {formatValue(hi)}</figcaption>
    </figure>
  );
}

export function MediaPanels({ entity, project, runId }: Where) {
  const query = useRunMedia(entity, project, runId);
  if (query.isPending) return <p className="loading">Loading media…</p>;
  if (query.isError) return <p className="error" role="alert">{errorText(query.error)}</p>;
  if (!query.data.length) {
    return <p className="muted">No media logged. Log trackwell.Image, Table or Histogram values with run.log().</p>;
  }
  const byKey = new Map<string, typeof query.data>();
  for (const item of query.data) byKey.set(item.key, [...(byKey.get(item.key) ?? []), item]);
  const where = { entity, project, runId };
  return (
    <div className="run-media">
      {[...byKey].map(([key, items]) => (
        <section key={key} aria-label={key}>
          <h2>{key}</h2>
          <div className="media-grid">
            {items.map(({ step, media }, i) => (
              <div key={i} className="media-item">
                <span className="muted">step {step}</span>
                {media._type === "image-file" && <Picture where={where} image={media} />}
                {media._type === "table-file" && <TableView where={where} table={media} />}
                {media._type === "histogram" && <Bars histogram={media} />}
                {(media._type === "audio-file" || media._type === "video-file" || media._type === "html-file"
                  || media._type === "object3D-file") && <FileMedia where={where} media={media} />}
              </div>
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
