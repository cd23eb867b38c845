"""A 60-column table in real Chromium: cells keep readable widths (no word broken in two), the
table scrolls sideways in its own box and the page never does, on a desktop and a phone."""

from __future__ import annotations

from pathlib import Path

from tests.app_server import AppServer
from tests.fake_openai import FakeOpenAI, Reply
from tests.test_browser_chat import set_up

ARTIFACTS = Path(__file__).parent / "artifacts"
COLUMNS = 60
HEAD = "| " + " | ".join(f"Quarterly revenue {n}" for n in range(COLUMNS)) + " |"
RULE = "|" + "|".join("---" for _ in range(COLUMNS)) + "|"
# What models put in cells: numbers, short phrases, code, bold, a whole paragraph.
KINDS = [
    "{r}",
    "growth in region {r} exceeded expectations",
    "`value_{r}`",
    "**Strongly recommended**",
    "12.{r}%",
    "This column holds a whole paragraph of explanation, far longer than any cell needs, "
    "which must wrap inside a cell of bounded width rather than stretch across the screen.",
]
ROWS = [
    "| " + " | ".join(KINDS[c % len(KINDS)].format(r=r) for c in range(COLUMNS)) + " |"
    for r in range(4)
]
TABLE = "\n".join([HEAD, RULE, *ROWS])

# Every word of every cell on one line (a word broken in two has two boxes), and each cell's
# width in `em` of its own font size.
MEASURE = """(table) => {
  const cells = [...table.querySelectorAll('th, td')];
  const broken = [];
  const widths = cells.map(cell => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode())
    for (const word of text.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(text, word.index);
      range.setEnd(text, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(word[0]);
    }
    const em = parseFloat(getComputedStyle(cell).fontSize);
    return cell.getBoundingClientRect().width / em;
  });
  const box = table.parentElement;  // the table's own scroll box
  return {broken, narrowest: Math.min(...widths), widest: Math.max(...widths),
          scrolls: box.scrollWidth > box.clientWidth, right: box.getBoundingClientRect().right};
}"""


async def test_a_wide_table_keeps_words_whole_and_scrolls_in_its_box(  # type: ignore[no-untyped-def]
    browser, app: AppServer, fake: FakeOpenAI
) -> None:
    fake.enqueue(Reply(f"The figures:\n\n{TABLE}\n\nThat is all.", chunk_size=400))
    page = await browser.new_page(viewport={"width": 1280, "height": 800})
    await set_up(page, app)
    await page.get_by_label("Message").fill("A wide table, please")
    await page.keyboard.press("Enter")
    reply = page.locator("[data-role=assistant]").last
    await reply.get_by_role("button", name="Regenerate reply").wait_for(timeout=60_000)
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in [(1280, 800), (390, 844)]:
        await page.set_viewport_size({"width": width, "height": height})
        await page.reload()
        table = page.locator("[data-role=assistant] .markdown table").last
        await table.wait_for()
        found = await table.evaluate(MEASURE)
        assert not found["broken"], f"{width} px: words broken in two: {found['broken'][:5]}"
        assert found["narrowest"] >= 6, f"{width} px: a cell {found['narrowest']:.1f} em wide"
        assert found["widest"] <= 25, f"{width} px: a cell {found['widest']:.1f} em wide"
        assert found["scrolls"], f"{width} px: the table does not scroll in its box"
        assert found["right"] <= width
        viewport = await page.evaluate("document.documentElement.clientWidth")
        assert await page.evaluate("document.documentElement.scrollWidth") == viewport
        await table.evaluate("t => t.parentElement.scrollLeft = 400")
        await page.screenshot(path=ARTIFACTS / f"wide-table-{width}.png")
