"""The skeleton of Portico's small standalone HTML pages (no script, no framework).

The test authorization page, mandates, hosted invoices and their "not found" pages are
plain documents served by Starlette; :func:`html_page` writes their common part (doctype,
language and direction, viewport, robots, title, one inline style) around a page's own
body, and :data:`CARD_STYLE` is the look most of them share: one card on grey.
"""

from __future__ import annotations

from html import escape

from portal_app import i18n

# The look of the small standalone pages (test authorization, mandates, not found).
CARD_STYLE = """
  :root { color-scheme: light; --ink: #1c2024; --muted: #60646c; --line: #e4e6eb;
          --accent: #0d74ce; --fail: #ce2c31; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 24px;
         background: #f6f7f9; color: var(--ink);
         font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
                      Arial, sans-serif; -webkit-font-smoothing: antialiased; }
  main { width: 100%; max-width: 440px; background: #fff; border: 1px solid var(--line);
         border-radius: 16px; padding: 32px 28px;
         box-shadow: 0 1px 2px rgba(16, 24, 40, .04), 0 8px 24px rgba(16, 24, 40, .06); }
  .badge { display: inline-block; font-size: 12px; font-weight: 700; letter-spacing: .04em;
           text-transform: uppercase; color: #ab6400; background: #fff7c2;
           border: 1px solid #f3d768; border-radius: 999px; padding: 3px 10px;
           margin-bottom: 20px; }
  .business { margin: 0 0 4px; font-size: 14px; font-weight: 600; color: var(--muted); }
  h1 { margin: 0 0 20px; font-size: 22px; line-height: 1.3; letter-spacing: -0.01em; }
  dl { margin: 0 0 20px; border: 1px solid var(--line); border-radius: 12px;
       padding: 4px 16px; }
  .row { display: flex; justify-content: space-between; gap: 16px; padding: 12px 0; }
  .row + .row { border-top: 1px solid var(--line); }
  dt { color: var(--muted); font-size: 14px; }
  dd { margin: 0; font-weight: 600; font-size: 15px; text-align: end; }
  p.lead { margin: 0 0 24px; font-size: 14px; line-height: 1.55; color: var(--muted); }
  form { display: grid; gap: 10px; margin: 0; }
  button { font: inherit; font-size: 15px; font-weight: 600; border-radius: 8px;
           padding: 12px 16px; cursor: pointer; width: 100%; }
  .authorize { background: var(--accent); color: #fff; border: 0; }
  .authorize:hover { background: #0b68b9; }
  .fail { background: #fff; color: var(--fail); border: 1px solid #f4a9aa; }
  .fail:hover { background: #fff1f0; }
  button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
  .note { margin: 20px 0 0; font-size: 12px; color: var(--muted); text-align: center; }
  .message { margin: 0; font-size: 16px; line-height: 1.55; }
"""


def html_page(*, locale: str, title: str, body: str, style: str = CARD_STYLE,
              robots: str = "noindex", head: str = "") -> str:
    """A whole document in ``locale`` (right to left where it reads so).

    ``title`` is plain text (escaped here); ``body`` (what goes inside ``<body>``),
    ``style`` (CSS) and ``head`` (more ``<head>`` elements) are the caller's markup.
    """
    direction = "rtl" if i18n.is_rtl(locale) else "ltr"
    return f"""<!doctype html>
<html lang="{escape(locale, quote=True)}" dir="{direction}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="{escape(robots, quote=True)}">{head}
<title>{escape(title)}</title>
<style>{style}</style>
</head>
<body>
{body}
</body>
</html>
"""


def message_page(*, locale: str, title: str, message: str, above: str = "") -> str:
    """A card with one message (``role="status"``) under ``above`` (markup), e.g. a 404."""
    return html_page(locale=locale, title=title, body=(
        f'<main>\n  {above}\n  <p class="message" role="status">{escape(message)}</p>\n'
        "</main>"))
