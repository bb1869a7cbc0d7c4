"""Errors over HTTP: malformed and invalid input, unknown routes, and what is (not) written.

Every error is `application/problem+json`; the `client` fixture checks that on
every response, and that no problem echoes a NUL character or lone surrogate.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio

JSON = {"content-type": "application/json"}


async def _post_raw(client: httpx.AsyncClient, url: str, value: Any) -> httpx.Response:
    """POST `value` as JSON with \\u escapes, as clients send NUL and lone surrogates."""
    return await client.post(url, content=json.dumps(value), headers=JSON)


async def _version(client: httpx.AsyncClient, sid: str) -> int:
    version: int = (await client.get(f"/v1/sessions/{sid}")).json()["version"]
    return version


async def test_malformed_json_is_refused_with_a_clear_detail(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    for url in ("/v1/sessions", f"/v1/sessions/{session['id']}/messages"):
        response = await client.post(url, content=b'{"title": ', headers=JSON)
        assert response.status_code == 422
        assert response.json()["field"] == "body"
        assert response.json()["detail"].startswith("body is not valid JSON")

    not_utf8 = await client.post("/v1/sessions", content=b'{"title": "\xff"}', headers=JSON)
    assert not_utf8.status_code == 422
    assert not_utf8.json()["field"] == "body"


async def test_a_body_that_is_not_json_is_unsupported(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/sessions", content=b"title=x", headers={"content-type": "text/plain"}
    )

    assert response.status_code == 415
    assert (await client.get("/v1/sessions")).json()["data"] == []


async def test_wrong_types_are_refused_naming_the_field(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    cases: list[tuple[str, str, Any, str]] = [
        ("POST", "/v1/sessions", {"title": 5}, "body.title"),
        ("POST", "/v1/sessions", {"metadata": [1, 2]}, "body.metadata"),
        ("POST", "/v1/sessions", {"metadata": "x"}, "body.metadata"),
        ("POST", "/v1/sessions", {"context": 3}, "body.context"),
        ("POST", "/v1/sessions", {"titel": "typo"}, "body.titel"),
        ("PATCH", f"/v1/sessions/{sid}", {"metadata": [1]}, "body.metadata"),
        ("PUT", f"/v1/sessions/{sid}", {"context": "x"}, "body.context"),
        ("POST", f"/v1/sessions/{sid}/messages", {"role": "boss", "content": "x"}, "body.role"),
        ("POST", f"/v1/sessions/{sid}/messages", {"role": "user", "content": 5}, "body.content"),
        (
            "POST",
            f"/v1/sessions/{sid}/messages",
            {"role": "user", "content": "x", "metadata": [1]},
            "body.metadata",
        ),
        (
            "POST",
            f"/v1/sessions/{sid}/messages",
            {"messages": [{"role": "user", "content": "ok"}, {"role": "user"}]},
            "body.messages[1].content",
        ),
        ("POST", f"/v1/sessions/{sid}/messages", [1, 2], "body"),
    ]
    for method, url, body, field in cases:
        response = await client.request(method, url, json=body)
        assert response.status_code == 422, (method, url, body)
        problem = response.json()
        assert problem["field"] == field, (body, problem)
        assert problem["detail"].startswith(field)
        assert problem["errors"]
        assert all(set(e) == {"loc", "msg", "type"} for e in problem["errors"])
    assert await _version(client, sid) == 1
    assert len((await client.get("/v1/sessions")).json()["data"]) == 1


async def test_nul_and_lone_surrogates_in_session_text_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    for bad in ("a\x00b", "a\ud800b", "\udfff"):
        cases: list[tuple[str, dict[str, Any], str]] = [
            ("/v1/sessions", {"title": bad}, "body.title"),
            ("/v1/sessions", {"situation": bad}, "body.situation"),
            ("/v1/sessions", {"user_id": bad}, "body.user_id"),
            ("/v1/sessions", {"metadata": {"k": bad}}, "body.metadata.k"),
            ("/v1/sessions", {"metadata": {"k": [{"deep": bad}]}}, "body.metadata.k[0].deep"),
            ("/v1/sessions", {"context": {"k": bad}}, "body.context.k"),
        ]
        for url, body, field in cases:
            response = await _post_raw(client, url, body)
            assert response.status_code == 422, body
            assert response.json()["field"] == field
        key = await _post_raw(client, "/v1/sessions", {"metadata": {bad: 1}})
        assert key.status_code == 422
        assert key.json()["field"].startswith("body.metadata.")
        patched = await client.patch(
            f"/v1/sessions/{sid}", content=json.dumps({"title": bad}), headers=JSON
        )
        assert patched.status_code == 422
        assert patched.json()["field"] == "body.title"

    assert [s["id"] for s in (await client.get("/v1/sessions")).json()["data"]] == [sid]
    assert await _version(client, sid) == 1


async def test_nul_and_lone_surrogates_in_messages_are_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    url = f"/v1/sessions/{sid}/messages"
    for bad in ("a\x00b", "a\ud800b"):
        cases: list[tuple[Any, str]] = [
            ({"role": "user", "content": bad}, "body.content"),
            (
                {"role": "user", "content": [{"type": "text", "text": bad}]},
                "body.content[0].text",
            ),
            ({"role": "user", "content": "ok", "name": bad}, "body.name"),
            ({"role": "user", "content": "ok", "metadata": {"k": bad}}, "body.metadata.k"),
            (
                {"messages": [{"role": "user", "content": "ok"}, {"role": "user", "content": bad}]},
                "body.messages[1].content",
            ),
        ]
        for body, field in cases:
            response = await _post_raw(client, url, body)
            assert response.status_code == 422, body
            assert response.json()["field"] == field
        key = await _post_raw(client, url, {"role": "user", "content": "ok", "metadata": {bad: 1}})
        assert key.status_code == 422
        assert key.json()["field"].startswith("body.metadata.")

    assert await _version(client, sid) == 1
    assert (await client.get(url)).json()["data"] == []


async def test_unknown_routes_and_methods_answer_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    wrong_method = await client.put("/v1/sessions")

    assert missing.status_code == 404
    assert missing.json()["detail"] == "Not Found: GET /v1/nothing-here"
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]


async def test_an_unknown_include_is_refused_naming_the_parameter(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    response = await client.get(f"/v1/sessions/{session['id']}", params={"include": "everything"})

    assert response.status_code == 422
    assert response.json()["field"] == "query.include"


def _nested(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


async def test_json_nested_too_deeply_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    deep = _nested(300)
    cases = [
        ("POST", "/v1/sessions", f'{{"metadata": {deep}}}', "body.metadata"),
        ("PATCH", f"/v1/sessions/{sid}", f'{{"context": {deep}}}', "body.context"),
        (
            "POST",
            f"/v1/sessions/{sid}/messages",
            f'{{"role": "user", "content": "hi", "metadata": {deep}}}',
            "body.metadata",
        ),
        ("POST", "/v1/sessions", f'{{"metadata": {_nested(5000)}}}', "body"),
    ]
    for method, url, body, field in cases:
        response = await client.request(method, url, content=body, headers=JSON)
        assert response.status_code == 422, (url, field)
        assert response.json()["field"] == field

    filtered = await client.get("/v1/sessions", params={"metadata_filter": deep})
    too_deep_to_parse = await client.get("/v1/sessions", params={"metadata_filter": "[" * 5000})
    assert filtered.status_code == too_deep_to_parse.status_code == 422
    assert await _version(client, sid) == 1
    assert len((await client.get("/v1/sessions")).json()["data"]) == 1


async def test_numbers_json_cannot_hold_faithfully_are_refused_naming_them(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    cases = [
        ("/v1/sessions", '{"metadata": {"n": 18446744073709551616}}', "body.metadata.n"),
        ("/v1/sessions", '{"context": {"xs": [1, NaN]}}', "body.context.xs[1]"),
        ("/v1/sessions", '{"metadata": {"n": -Infinity}}', "body.metadata.n"),
        (
            f"/v1/sessions/{sid}/messages",
            '{"role": "user", "content": "hi", "metadata": {"n": 1e400}}',
            "body.metadata.n",
        ),
    ]
    for url, body, field in cases:
        response = await client.post(url, content=body, headers=JSON)
        assert response.status_code == 422, body
        assert response.json()["field"] == field

    filtered = await client.get("/v1/sessions", params={"metadata_filter": '{"n": 1e999}'})
    assert filtered.json()["field"] == "query.metadata_filter.n"
    assert await _version(client, sid) == 1
    assert len((await client.get("/v1/sessions")).json()["data"]) == 1


async def test_an_unknown_content_block_is_refused_naming_it_without_echoing_it(
    client: httpx.AsyncClient, session: dict[str, Any]
) -> None:
    response = await client.post(
        f"/v1/sessions/{session['id']}/messages",
        json={"role": "user", "content": [{"type": "text", "text": "ok"}, {"type": "secret-x"}]},
    )

    assert response.status_code == 422
    assert response.json()["field"] == "body.content[1]"
    assert "secret-x" not in response.text
