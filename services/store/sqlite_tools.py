"""The SQLite store's tool servers: one row per MCP server a user added."""

from __future__ import annotations

from services.errors import NotFound
from services.models import ToolServer, utcnow
from services.store._records import dump
from services.store.sqlite_base import SqliteBase


class SqliteToolServers(SqliteBase):
    """Each user's MCP servers; another user's are NotFound."""

    async def add_tool_server(self, server: ToolServer) -> ToolServer:
        server.created_at = server.updated_at = utcnow()
        async with self._write():
            await self._insert("tool_servers", dump(server))
        return server

    async def get_tool_server(self, user_id: str, server_id: str) -> ToolServer:
        sql = "SELECT * FROM tool_servers WHERE id = ? AND user_id = ?"
        if (server := await self._load(ToolServer, sql, (server_id, user_id))) is None:
            raise NotFound("Tool server not found.")
        return server

    async def list_tool_servers(self, user_id: str) -> list[ToolServer]:
        sql = "SELECT * FROM tool_servers WHERE user_id = ? ORDER BY id"
        return await self._load_all(ToolServer, sql, (user_id,))

    async def save_tool_server(self, server: ToolServer) -> ToolServer:
        server.updated_at = utcnow()
        values = dump(server)
        for key in ("id", "user_id", "created_at"):
            del values[key]
        async with self._write():
            if not await self._update(
                "tool_servers", values, "id = ? AND user_id = ?", server.id, server.user_id
            ):
                raise NotFound("Tool server not found.")
        return server

    async def delete_tool_server(self, user_id: str, server_id: str) -> None:
        async with self._write():
            sql = "DELETE FROM tool_servers WHERE id = ? AND user_id = ?"
            if not await self._run(sql, server_id, user_id):
                raise NotFound("Tool server not found.")
