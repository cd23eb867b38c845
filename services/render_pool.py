"""`Renderer`: markdown rendered in worker processes, in bounded time, off the event loop.

Model output is untrusted, and some short texts make markdown2 run for seconds or recurse
too deep (10,000 backticks took 16 s). Rendered in the app's own process, that froze every
user's page and request. So every render goes to a small pool of worker processes
(`services.render_worker`; threads would not help, markdown2 holds the GIL):

- a text is cut into the streaming splitter's blocks, which render the same apart as
  together; each block has a time budget in its worker, and one that raises or runs out of
  time is shown as escaped text with a quiet note, while the rest renders as usual;
- an LRU cache here remembers every outcome, fallbacks included, so a block is rendered once;
- requests waiting for a worker go to it together, one round trip for many blocks;
- a worker that does not answer within its batch's budget plus a margin is killed and
  replaced, and that batch's blocks are tried again one by one; a worker that grew large
  retires itself after answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass

from services.markdown import plain_fallback
from services.markdown_blocks import BlockSplitter

log = logging.getLogger(__name__)

BUDGET = 0.5  # seconds of a worker's time per block
MARGIN = 2.0  # seconds: beyond the budgets, before a silent worker is taken for stuck
BATCH_CHARS = 64_000  # a batch takes whatever is waiting, up to this much text
START_TIMEOUT = 30.0  # seconds for a new worker to import its libraries and say hello


@dataclass(frozen=True, slots=True)
class Rendered:
    """One block's HTML; `plain` when it is shown as escaped text (it failed to render)."""

    html: str
    plain: bool = False


class RenderCache:
    """An LRU of rendered blocks bounded in bytes, so a long-running process stays flat."""

    def __init__(self, max_bytes: int = 8 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[str, Rendered] = OrderedDict()

    def get(self, text: str) -> Rendered | None:
        hit = self._entries.get(text)
        if hit is not None:
            self._entries.move_to_end(text)
        return hit

    def put(self, text: str, rendered: Rendered) -> None:
        cost = len(text) + len(rendered.html)
        if cost > self.max_bytes // 4 or text in self._entries:
            return  # a huge one-off document is not worth evicting for
        self._entries[text] = rendered
        self.size += cost
        while self.size > self.max_bytes:
            old_text, old = self._entries.popitem(last=False)
            self.size -= len(old_text) + len(old.html)


def blocks_of(text: str) -> list[str]:
    """The blocks `text` renders as, apart; the whole text when a reference-style link
    definition ties them together (the splitter says so)."""
    splitter = BlockSplitter()
    blocks = splitter.feed(text if text.endswith("\n") else text + "\n")
    if splitter.needs_full_render:
        return [text]
    return [block for block in [*blocks, splitter.tail] if block.strip()]


def worker_command(budget: float) -> list[str]:
    if getattr(sys, "frozen", False):  # the desktop bundle: its program starts a worker
        return [sys.executable, "--render-worker", str(budget)]
    return [sys.executable, "-m", "services.render_worker", str(budget)]


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, budget: float) -> _Worker:
        """A new worker, once it says it is ready: its imports and warm-up can take seconds
        on a busy machine, which must not count against its first batch's budget."""
        process = await asyncio.create_subprocess_exec(
            *worker_command(budget),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONSAFEPATH": "1"},  # not the app's working folder
        )
        worker = cls(process)
        try:
            assert process.stdout is not None
            size = int.from_bytes(await process.stdout.readexactly(4), "big")
            if json.loads(await process.stdout.readexactly(size)) != {"ready": True}:
                raise OSError("a markdown worker said something else than ready")
        except BaseException:
            await worker.stop()
            raise
        return worker

    async def ask(self, texts: list[str]) -> tuple[list[Rendered], bool]:
        assert self.process.stdin is not None and self.process.stdout is not None
        body = json.dumps(texts).encode()
        self.process.stdin.write(len(body).to_bytes(4, "big") + body)
        await self.process.stdin.drain()
        size = int.from_bytes(await self.process.stdout.readexactly(4), "big")
        answer = json.loads(await self.process.stdout.readexactly(size))
        results = [Rendered(html, plain) for html, plain in answer["results"]]
        return results, bool(answer["retire"])

    async def stop(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
        await self.process.wait()
        # The pipes' transports close with the process; closing stdin here says so at once.
        if self.process.stdin is not None:
            self.process.stdin.close()


_Job = tuple[str, "asyncio.Future[Rendered]"]


class Renderer:
    """Markdown to safe HTML through the worker pool: `await render(text)`.

    Workers start with `start()` (the app does it at start-up), or on the first render.
    """

    def __init__(
        self, workers: int = 2, *, budget: float = BUDGET, cache: RenderCache | None = None
    ) -> None:
        self.size = max(1, workers)
        self.budget = budget
        self.cache = cache or RenderCache()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._waiting: dict[str, asyncio.Future[Rendered]] = {}  # queued or being rendered
        self._servers: list[asyncio.Task[None]] = []
        self._workers: set[_Worker] = set()
        self.rendered = 0  # blocks the workers rendered (each once, unless evicted)
        self.replaced = 0  # workers killed for not answering, or retired

    # ----- the public face --------------------------------------------------------------------

    async def render(self, text: str) -> str:
        """`text` (markdown from a model or a user: untrusted) as safe HTML."""
        return (await self.render_many([text]))[0]

    async def render_many(self, texts: list[str]) -> list[str]:
        """Each text as safe HTML; all their blocks go to the workers at once."""
        split = [blocks_of(text) for text in texts]
        done = await self.render_blocks([block for blocks in split for block in blocks])
        out, at = [], 0
        for blocks in split:
            out.append("\n".join(rendered.html for rendered in done[at : at + len(blocks)]))
            at += len(blocks)
        return out

    async def render_blocks(self, blocks: list[str]) -> list[Rendered]:
        """Each block rendered on its own (the streaming view's frozen blocks and tail)."""
        results: list[Rendered | None] = []
        pending: list[asyncio.Future[Rendered]] = []
        for block in blocks:
            if not block.strip():
                results.append(Rendered(""))
            elif (hit := self.cache.get(block)) is not None:
                results.append(hit)
            else:
                results.append(None)
                pending.append(self._submit(block))
        if pending:
            self._ensure_started()
            # Shielded: a future may be shared with another caller, who still wants it.
            answers = iter(await asyncio.gather(*map(asyncio.shield, pending)))
            results = [result or next(answers) for result in results]
        return [result for result in results if result is not None]

    def cached(self, text: str) -> str | None:
        """The HTML of `text` if every block of it is in the cache, without waiting."""
        hits = [self.cache.get(block) for block in blocks_of(text)]
        if any(hit is None for hit in hits):
            return None
        return "\n".join(hit.html for hit in hits if hit is not None)

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids (those started so far)."""
        return [worker.process.pid for worker in self._workers]

    async def start(self) -> None:
        self._ensure_started()

    async def close(self) -> None:
        for server in self._servers:
            while not server.done():  # a cancel that lands as an await completes can be lost
                server.cancel()
                await asyncio.wait({server}, timeout=1.0)
            with contextlib.suppress(asyncio.CancelledError):
                await server
        self._servers.clear()
        for worker in list(self._workers):
            await worker.stop()
        self._workers.clear()
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()

    # ----- the pool ---------------------------------------------------------------------------

    def _submit(self, block: str) -> asyncio.Future[Rendered]:
        future = self._waiting.get(block)
        if future is None:  # the same block asked for twice at once is rendered once
            future = asyncio.get_running_loop().create_future()
            self._waiting[block] = future
            self._queue.put_nowait((block, future))
        return future

    def _ensure_started(self) -> None:
        if not self._servers:
            self._servers = [
                asyncio.create_task(self._serve(), name=f"markdown worker {n}")
                for n in range(self.size)
            ]

    def _take_batch(self, first: _Job) -> list[_Job]:
        batch, chars = [first], len(first[0])
        while not self._queue.empty() and chars < BATCH_CHARS:
            job = self._queue.get_nowait()
            batch.append(job)
            chars += len(job[0])
        return batch

    async def _serve(self) -> None:
        """One worker's loop: take what is waiting, render it there, answer, again."""
        worker = await self._start_worker()  # now, so that it is warm by the first render
        try:
            while True:
                batch = self._take_batch(await self._queue.get())
                worker = await self._run(worker, batch)
        finally:
            if worker is not None:
                await asyncio.shield(self._retire(worker, replaced=False))

    async def _start_worker(self) -> _Worker | None:
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for returns the result when a
            # cancel (close()) comes as the start finishes, and the server then never ends.
            async with asyncio.timeout(START_TIMEOUT):
                worker = await _Worker.start(self.budget)
        except (OSError, TimeoutError, EOFError, ValueError):
            log.exception("could not start a markdown worker; showing text as it is")
            return None
        self._workers.add(worker)
        return worker

    async def _retire(self, worker: _Worker, *, replaced: bool = True) -> None:
        self._workers.discard(worker)
        self.replaced += replaced
        await worker.stop()

    async def _run(self, worker: _Worker | None, batch: list[_Job]) -> _Worker | None:
        """Render `batch` on `worker` (or a new one); the worker to use next, if any."""
        texts = [text for text, _ in batch]
        worker = worker or await self._start_worker()
        if worker is None:
            for job in batch:
                self._settle(job, Rendered(plain_fallback(job[0]), plain=True))
            return None
        try:
            async with asyncio.timeout(self.budget * len(texts) + MARGIN):
                results, retire = await worker.ask(texts)
        except (TimeoutError, OSError, EOFError, asyncio.IncompleteReadError, ValueError):
            log.warning("a markdown worker stopped answering; starting another")
            await self._retire(worker)
            if len(batch) == 1:
                self._settle(batch[0], Rendered(plain_fallback(texts[0]), plain=True))
                return None
            replacement: _Worker | None = None
            for job in batch:  # which block was it? Each goes again on its own
                replacement = await self._run(replacement, [job])
            return replacement
        self.rendered += len(batch)
        for job, result in zip(batch, results, strict=True):
            self._settle(job, result)
        if retire:
            await self._retire(worker)
            return None
        return worker

    def _settle(self, job: _Job, result: Rendered) -> None:
        text, future = job
        self.cache.put(text, result)
        if self._waiting.get(text) is future:
            del self._waiting[text]
        if not future.done():
            future.set_result(result)
