"""The OpenAPI 3.1 description of the partner API (``GET /api/v1/openapi.json``), its
schemas taken from the pydantic models the API validates with, so the two cannot drift."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from web.public.api import PROBLEM, ComplaintIn, Filing

PROBLEMS = ("unauthorized", "unsupported-media-type", "length-required", "too-large",
            "idempotency-key-required", "malformed-json", "invalid-complaint",
            "too-many-attachments", "attachment-too-large", "attachments-too-large",
            "idempotency-key-reused", "rate-limited")


def _problem_schema() -> dict[str, Any]:
    return {"type": "object", "description": "RFC 9457 problem details; `type` is one of "
            + ", ".join(PROBLEM + p for p in PROBLEMS),
            "properties": {"type": {"type": "string", "format": "uri-reference"},
                           "title": {"type": "string"}, "status": {"type": "integer"},
                           "detail": {"type": "string"}, "instance": {"type": "string"},
                           "errors": {"type": "array", "items": {
                               "type": "object", "properties": {
                                   "pointer": {"type": "string"},
                                   "detail": {"type": "string"}}}}},
            "required": ["type", "title", "status"]}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}


def _filing(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Filing"}}}}


def document(organisation: str) -> dict[str, Any]:
    schemas = {"Complaint": ComplaintIn.model_json_schema(ref_template="#/components/schemas/"
                                                                       "{model}"),
               "Filing": Filing.model_json_schema(), "Problem": _problem_schema()}
    schemas.update(schemas["Complaint"].pop("$defs", {}))
    post = {
        "summary": "File a complaint on a complainant's behalf",
        "operationId": "fileComplaint",
        "security": [{"partnerKey": []}],
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                        "description": "unique per complaint; send it again on a retry"}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Complaint"}}}},
        "responses": {
            "201": _filing("a case was opened; its reference"),
            "200": _filing("a retry with the same Idempotency-Key: the first answer "
                           "(header Idempotent-Replayed: true)"),
            "202": _filing("kept for staff to process (no reference yet)"),
            "400": _problem("no Idempotency-Key, or malformed JSON"),
            "401": _problem("no valid partner API key"),
            "411": _problem("no Content-Length"),
            "413": _problem("the request or an attachment is too large"),
            "415": _problem("not application/json"),
            "422": _problem("invalid fields, or an Idempotency-Key reused for another "
                            "complaint"),
            "429": _problem("the key's hourly limit is used up (Retry-After)"),
        },
    }
    return {"openapi": "3.1.0",
            "info": {"title": f"{organisation} — partner complaint API", "version": "1"},
            "paths": {"/api/v1/complaints": {"post": post}},
            "components": {"schemas": schemas, "securitySchemes": {"partnerKey": {
                "type": "http", "scheme": "bearer",
                "description": "a key issued by `complaintd partners add`"}}}}


def endpoint(organisation: str) -> Any:
    async def openapi(_request: Request) -> Response:
        return JSONResponse(document(organisation))
    return openapi
