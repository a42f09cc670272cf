// report/escape — HTML text and attribute escaping. Layer: report (imports nothing).

/** Escapes &, <, >, " and ' for HTML text and double- or single-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
