"""A real MCP server built with the official `mcp` SDK, serving tools captured from real servers.

    python sdk_server.py --tools data/server-filesystem.json [--tools FILE …] [--page-size 5]
                         [--transport stdio|http|sse] [--require-header NAME:VALUE] [--require-oauth]

The tools are real `tools/list` captures (annotations included); they are served in pages behind
opaque cursors. HTTP and SSE bind 127.0.0.1 on a free port and print `LISTENING <port>` on stdout.
"""

import argparse
import base64
import json
import socket
import sys

INSTRUCTIONS = "Test server of mcp-risk: tools captured from real servers, served in pages."


def load_tools(paths):
    tools, info, names = [], None, set()
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            capture = json.load(handle)
        info = info or capture.get("server_info") or {"name": capture.get("server"), "version": "0"}
        for tool in capture["tools"]:
            if tool["name"] not in names:
                names.add(tool["name"])
                tools.append(tool)
    return tools, info


def build(tools, info, page_size):
    import mcp_types as types
    from mcp.server.lowlevel import Server

    models = [types.Tool.model_validate(tool) for tool in tools]

    async def list_tools(ctx, params):
        cursor = params.cursor if params else None
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
        end = start + page_size
        following = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(models) else None
        return types.ListToolsResult(tools=models[start:end], next_cursor=following)

    return Server(info["name"], version=info.get("version", "0"), instructions=INSTRUCTIONS, on_list_tools=list_tools)


def require_header(app, name, value):
    """An ASGI wrapper that answers 401 unless the request carries the header."""
    wanted = (name.lower().encode(), value.encode())

    async def guarded(scope, receive, send):
        if scope["type"] == "http" and wanted not in scope["headers"]:
            await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"missing header"})
            return
        await app(scope, receive, send)

    return guarded


def require_oauth(app):
    """An ASGI wrapper that answers as a server under the MCP authorization spec does to a request
    without a token: 401 with a Bearer challenge naming its protected-resource metadata (RFC 9728),
    which it serves; a client must send the user through an OAuth login first."""

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        host, port = scope["server"]
        base = f"http://{host}:{port}"
        if scope["path"] == "/.well-known/oauth-protected-resource":
            body = json.dumps({"resource": f"{base}/mcp", "authorization_servers": [f"{base}/oauth"],
                               "scopes_supported": ["mcp:tools"], "bearer_methods_supported": ["header"]}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        challenge = f'Bearer error="invalid_token", error_description="No access token was provided", ' \
                    f'resource_metadata="{base}/.well-known/oauth-protected-resource"'
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", challenge.encode())]})
        await send({"type": "http.response.body", "body": b'{"error":"invalid_token","error_description":"No access token was provided"}'})

    return guarded


def sse_app(server):
    from mcp.server.sse import SseServerTransport
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Mount, Route

    transport = SseServerTransport("/messages/")

    async def handle_sse(request):
        async with transport.connect_sse(request.scope, request.receive, request._send) as (read, write):
            await server.run(read, write, server.create_initialization_options())
        return Response()

    return Starlette(routes=[Route("/sse", endpoint=handle_sse, methods=["GET"]),
                             Mount("/messages/", app=transport.handle_post_message)])


def serve_http(app):
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    print(f"LISTENING {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on")).run(sockets=[sock])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", action="append", required=True)
    parser.add_argument("--page-size", type=int, default=5)
    parser.add_argument("--transport", choices=["stdio", "http", "sse"], default="stdio")
    parser.add_argument("--require-header")
    parser.add_argument("--require-oauth", action="store_true")
    args = parser.parse_args()
    tools, info = load_tools(args.tools)
    server = build(tools, info, args.page_size)
    if args.transport == "stdio":
        import anyio
        from mcp.server.stdio import stdio_server

        async def run():
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        anyio.run(run)
        return
    app = server.streamable_http_app(host="127.0.0.1") if args.transport == "http" else sse_app(server)
    if args.require_header:
        name, _, value = args.require_header.partition(":")
        app = require_header(app, name.strip(), value.strip())
    if args.require_oauth:
        app = require_oauth(app)
    serve_http(app)


if __name__ == "__main__":
    sys.exit(main())
