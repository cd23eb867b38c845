"""The MongoDB store's tool servers: one document per MCP server a user added."""

from __future__ import annotations

from pymongo import ASCENDING

from services.errors import NotFound
from services.models import ToolServer
from services.store.mongo_base import MongoBase, as_doc, from_doc, now_ms


class MongoToolServers(MongoBase):
    """Each user's MCP servers; another user's are NotFound."""

    async def add_tool_server(self, server: ToolServer) -> ToolServer:
        server.created_at = server.updated_at = now_ms()
        async with self._guard():
            await self.tool_servers.insert_one(as_doc(server))
        return server

    async def get_tool_server(self, user_id: str, server_id: str) -> ToolServer:
        async with self._guard():
            doc = await self.tool_servers.find_one({"_id": server_id, "user_id": user_id})
        if doc is None:
            raise NotFound("Tool server not found.")
        return from_doc(ToolServer, doc)

    async def list_tool_servers(self, user_id: str) -> list[ToolServer]:
        async with self._guard():
            cursor = self.tool_servers.find({"user_id": user_id}).sort("_id", ASCENDING)
            docs = await cursor.to_list(None)
        return [from_doc(ToolServer, doc) for doc in docs]

    async def save_tool_server(self, server: ToolServer) -> ToolServer:
        server.updated_at = now_ms()
        values = as_doc(server)
        for key in ("_id", "user_id", "created_at"):
            del values[key]
        async with self._guard():
            result = await self.tool_servers.update_one(
                {"_id": server.id, "user_id": server.user_id}, {"$set": values}
            )
        if result.matched_count == 0:
            raise NotFound("Tool server not found.")
        return server

    async def delete_tool_server(self, user_id: str, server_id: str) -> None:
        async with self._guard():
            result = await self.tool_servers.delete_one({"_id": server_id, "user_id": user_id})
        if result.deleted_count == 0:
            raise NotFound("Tool server not found.")
