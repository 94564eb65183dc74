"""The three vendors' batch endpoints for the fake server, in the shapes their SDKs send and parse.

- OpenAI (`client.files.create`, `client.batches.create/retrieve/list`, `client.files.content`):
  ``POST /v1/files`` (multipart upload, purpose "batch"), ``POST /v1/batches``, ``GET /v1/batches/{id}``,
  ``GET /v1/batches``, ``GET /v1/files/{id}/content`` (the output and error JSONL files).
- Anthropic (`client.messages.batches.create/retrieve/list/results`): ``POST /v1/messages/batches``,
  ``GET /v1/messages/batches/{id}``, ``GET /v1/messages/batches``, ``GET /v1/messages/batches/{id}/results``.
- Gemini (`client.batches.create/get/list` with inlined requests):
  ``POST /{version}/models/{model}:batchGenerateContent`` (an operation whose metadata is the batch),
  ``GET /{version}/batches/{id}``, ``GET /{version}/batches``.

Each request inside a batch is answered like a synchronous one (the server's `script` faults apply
to it in submission order, its `answer` function gives the text, usage and prompt-cache accounting
are the same) and is kept in `server.requests` with `batch_id` set. A batch reports "in progress" for
the first `polls_to_finish` status reads, then ended. Fault "expire" makes a request expire
(OpenAI `batch_expired` error line, Anthropic `expired` result; Gemini expires whole jobs, so the
job ends `BATCH_STATE_EXPIRED`); "refuse" gives the vendor's refusal; status faults give errored
results carrying the vendor's error body. `created` lists every batch submitted (tests count them).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from tests.fakes.wire import RecordedRequest, error_body, parse_request

_ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
                    429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


class BatchEndpoints:
    def __init__(self, server: Any, polls_to_finish: int = 1):
        self.server = server
        self.polls_to_finish = polls_to_finish
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.created: list[str] = []  # batch ids in submission order

    def clear(self) -> None:
        self.files.clear()
        self.batches.clear()
        self.created.clear()

    @property
    def submitted_requests(self) -> int:
        return sum(len(self.batches[b]["results"]) for b in self.created)

    # ------------------------------------------------------------------------------- routing
    def route(self, method: str, target: str, headers: dict, body: bytes) -> tuple[int, Any, str] | None:
        """(status, payload, content type) for a batch route; None for any other path."""
        path = target.split("?", 1)[0]
        if method == "POST" and path == "/v1/files":
            return self._openai_upload(headers, body)
        if method == "GET" and (m := re.fullmatch(r"/v1/files/([^/]+)/content", path)):
            data = self.files.get(m.group(1))
            return (200, data, "application/octet-stream") if data is not None else self._missing("openai")
        if path == "/v1/batches" and method == "POST":
            return self._openai_create(headers, json.loads(body))
        if path == "/v1/batches" and method == "GET" and "key=" not in target and "x-goog-api-key" not in headers:
            data = [self._openai_view(b) for b in reversed(self.created) if self.batches[b]["vendor"] == "openai"]
            return 200, {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                         "last_id": data[-1]["id"] if data else None, "has_more": False}, "application/json"
        if method == "GET" and (m := re.fullmatch(r"/v1\w*/batches/([^/:]+)", path)):
            # OpenAI (`/v1/batches/batch_...`) and Gemini (`/{version}/batches/...`) share the shape
            found = self.batches.get(m.group(1))
            return self._poll(m.group(1), found["vendor"] if found else "openai")
        if path == "/v1/messages/batches" and method == "POST":
            return self._anthropic_create(headers, json.loads(body))
        if path == "/v1/messages/batches" and method == "GET":
            data = [self._anthropic_view(b) for b in reversed(self.created) if self.batches[b]["vendor"] == "anthropic"]
            return 200, {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                         "last_id": data[-1]["id"] if data else None}, "application/json"
        if method == "GET" and (m := re.fullmatch(r"/v1/messages/batches/([^/]+)/results", path)):
            return self._anthropic_results(m.group(1))
        if method == "GET" and (m := re.fullmatch(r"/v1/messages/batches/([^/]+)", path)):
            return self._poll(m.group(1), "anthropic")
        if method == "POST" and (m := re.fullmatch(r"/(v1\w*)/models/([^/:]+):batchGenerateContent", path)):
            return self._gemini_create(headers, target, m.group(2), json.loads(body))
        if method == "GET" and re.fullmatch(r"/v1\w*/batches", path):
            data = [self._gemini_view(b) for b in reversed(self.created) if self.batches[b]["vendor"] == "gemini"]
            return 200, {"operations": data}, "application/json"
        return None

    def _missing(self, vendor: str) -> tuple[int, Any, str]:
        return 404, error_body(vendor, 404, message="no such batch or file"), "application/json"

    def _poll(self, batch_id: str, vendor: str) -> tuple[int, Any, str]:
        batch = self.batches.get(batch_id)
        if batch is None or batch["vendor"] != vendor:
            return self._missing(vendor)
        batch["polls"] += 1
        view = {"openai": self._openai_view, "anthropic": self._anthropic_view, "gemini": self._gemini_view}[vendor]
        return 200, view(batch_id), "application/json"

    def _done(self, batch: dict) -> bool:
        done = batch["polls"] > self.polls_to_finish
        if done and "ready_at" not in batch:
            batch["ready_at"] = time.time()  # when the vendor first reported it ended (benchmarks)
        return done

    # ------------------------------------------------------------------------------- answering
    def _authorized(self, headers: dict, target: str, vendor: str) -> tuple[int, Any, str] | None:
        key = self.server.api_key
        probe = RecordedRequest(index=-1, vendor=vendor, method="POST", path=target, headers=headers, body=None)
        if key is None or probe.api_key == key or "key=" + key in target:
            return None
        status = 400 if vendor == "gemini" else 401
        return status, error_body(vendor, status, key_invalid=vendor == "gemini"), "application/json"

    def _answer(self, vendor: str, path: str, body: Any, headers: dict, batch_id: str) -> tuple[str, Any]:
        """(kind, payload) for one request inside a batch: ("ok", body) | ("error", (status, body)) | ("expired", None)."""
        from tests.fakes.server import Fault
        server = self.server
        request = RecordedRequest(index=server.count, vendor=vendor, method="POST", path=path, headers=headers,
                                  body=body, batch_id=batch_id)
        server.count += 1
        try:
            parse_request(vendor, path, body, request)
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            request.fault = "400"
            server._keep(request)
            return "error", (400, error_body(vendor, 400, message=f"malformed request: {exc}"))
        fault = server._fault_for(request)
        request.fault = fault.label()
        server._keep(request)
        if fault.kind == "expire":
            return "expired", None
        if fault.kind in ("reset", "truncate", "delay"):
            fault = Fault("status", 500)
        if fault.kind == "status":
            return "error", (fault.status, error_body(vendor, fault.status, message=fault.message))
        return "ok", server.success_body(vendor, request, fault)

    def _new(self, vendor: str, batch_id: str, results: list[tuple[str, str, Any]], **extra: Any) -> dict:
        batch = {"vendor": vendor, "id": batch_id, "results": results, "polls": 0, "created_at": time.time(),
                 **extra}
        self.batches[batch_id] = batch
        self.created.append(batch_id)
        return batch

    # ------------------------------------------------------------------------------- OpenAI
    def _openai_upload(self, headers: dict, body: bytes) -> tuple[int, Any, str]:
        boundary = re.search(r'boundary="?([^";]+)"?', headers.get("content-type", ""))
        if not boundary:
            return 400, error_body("openai", 400, message="expected multipart/form-data"), "application/json"
        fields: dict[str, bytes] = {}
        filename = "upload.jsonl"
        for part in body.split(b"--" + boundary.group(1).encode()):
            head, sep, content = part.partition(b"\r\n\r\n")
            if not sep:
                continue
            name = re.search(rb'name="([^"]+)"', head)
            if name:
                fields[name.group(1).decode()] = content[:-2] if content.endswith(b"\r\n") else content
                found = re.search(rb'filename="([^"]+)"', head)
                if found:
                    filename = found.group(1).decode()
        if fields.get("purpose", b"").decode() != "batch" or "file" not in fields:
            return 400, error_body("openai", 400, message="purpose must be 'batch' with a file"), "application/json"
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        self.files[file_id] = fields["file"]
        return 200, {"id": file_id, "object": "file", "bytes": len(fields["file"]), "created_at": int(time.time()),
                     "filename": filename, "purpose": "batch", "status": "processed", "expires_at": None,
                     "status_details": None}, "application/json"

    def _openai_create(self, headers: dict, body: dict) -> tuple[int, Any, str]:
        denied = self._authorized(headers, "/v1/batches", "openai")
        if denied:
            return denied
        data = self.files.get(body.get("input_file_id", ""))
        if data is None or body.get("endpoint") != "/v1/chat/completions" or body.get("completion_window") != "24h":
            return 400, error_body("openai", 400, message="unknown input_file_id, endpoint or completion_window"), \
                "application/json"
        batch_id = f"batch_{uuid.uuid4().hex[:24]}"
        results = []
        for line in data.decode().splitlines():
            if line.strip():
                entry = json.loads(line)
                kind, payload = self._answer("openai", entry["url"], entry["body"], headers, batch_id)
                results.append((entry["custom_id"], kind, payload))
        self._new("openai", batch_id, results, input_file_id=body["input_file_id"], metadata=body.get("metadata"))
        return 200, self._openai_view(batch_id), "application/json"

    def _openai_view(self, batch_id: str) -> dict:
        batch = self.batches[batch_id]
        done = self._done(batch)
        view = {"id": batch_id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
                "input_file_id": batch["input_file_id"], "completion_window": "24h",
                "status": "in_progress" if not done else "completed", "output_file_id": None, "error_file_id": None,
                "created_at": int(batch["created_at"]), "in_progress_at": int(batch["created_at"]),
                "expires_at": int(batch["created_at"]) + 86400, "completed_at": None, "metadata": batch["metadata"],
                "request_counts": {"total": len(batch["results"]), "completed": 0, "failed": 0}}
        if done:
            if "output_file_id" not in batch:
                self._openai_files(batch)
            ok = sum(kind == "ok" for _, kind, _ in batch["results"])
            view.update(output_file_id=batch["output_file_id"], error_file_id=batch["error_file_id"],
                        completed_at=int(time.time()),
                        request_counts={"total": len(batch["results"]), "completed": ok,
                                        "failed": len(batch["results"]) - ok})
        return view

    def _openai_files(self, batch: dict) -> None:
        output, errors = [], []
        for custom_id, kind, payload in batch["results"]:
            line = {"id": f"batch_req_{uuid.uuid4().hex[:20]}", "custom_id": custom_id, "response": None,
                    "error": None}
            if kind == "ok":
                line["response"] = {"status_code": 200, "request_id": uuid.uuid4().hex, "body": payload}
                output.append(line)
            elif kind == "expired":
                line["error"] = {"code": "batch_expired", "message": "This request could not be executed before "
                                 "the completion window expired."}
                errors.append(line)
            else:
                status, body = payload
                line["response"] = {"status_code": status, "request_id": uuid.uuid4().hex, "body": body}
                errors.append(line)
        batch["output_file_id"] = batch["error_file_id"] = None
        for field, lines in (("output_file_id", output), ("error_file_id", errors)):
            if lines:
                file_id = f"file-{uuid.uuid4().hex[:24]}"
                self.files[file_id] = "".join(json.dumps(x) + "\n" for x in lines).encode()
                batch[field] = file_id

    # ------------------------------------------------------------------------------- Anthropic
    def _anthropic_create(self, headers: dict, body: dict) -> tuple[int, Any, str]:
        denied = self._authorized(headers, "/v1/messages/batches", "anthropic")
        if denied:
            return denied
        requests = body.get("requests") or []
        ids = [r.get("custom_id", "") for r in requests]
        bad = [i for i in ids if not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i)]
        if not requests or bad or len(set(ids)) != len(ids):
            return 400, error_body("anthropic", 400, message="requests need unique custom_ids matching "
                                   "^[a-zA-Z0-9_-]{1,64}$"), "application/json"
        batch_id = f"msgbatch_{uuid.uuid4().hex[:24]}"
        results = []
        for entry in requests:
            kind, payload = self._answer("anthropic", "/v1/messages", entry["params"], headers, batch_id)
            results.append((entry["custom_id"], kind, payload))
        self._new("anthropic", batch_id, results)
        return 200, self._anthropic_view(batch_id), "application/json"

    def _anthropic_view(self, batch_id: str) -> dict:
        batch = self.batches[batch_id]
        done = self._done(batch)
        kinds = [kind for _, kind, _ in batch["results"]]
        counts = {"processing": 0 if done else len(kinds), "succeeded": kinds.count("ok") if done else 0,
                  "errored": kinds.count("error") if done else 0, "canceled": 0,
                  "expired": kinds.count("expired") if done else 0}
        created = batch["created_at"]
        return {"id": batch_id, "type": "message_batch", "processing_status": "ended" if done else "in_progress",
                "request_counts": counts, "ended_at": _iso(time.time()) if done else None,
                "created_at": _iso(created), "expires_at": _iso(created + 86400), "archived_at": None,
                "cancel_initiated_at": None,
                "results_url": f"{self.server.root_url}/v1/messages/batches/{batch_id}/results" if done else None}

    def _anthropic_results(self, batch_id: str) -> tuple[int, Any, str]:
        batch = self.batches.get(batch_id)
        if batch is None or not self._done(batch):
            return self._missing("anthropic")
        lines = []
        for custom_id, kind, payload in batch["results"]:
            if kind == "ok":
                result = {"type": "succeeded", "message": payload}
            elif kind == "expired":
                result = {"type": "expired"}
            else:
                status, body = payload
                result = {"type": "errored", "error": body}
            lines.append(json.dumps({"custom_id": custom_id, "result": result}) + "\n")
        return 200, "".join(lines).encode(), "application/binary"

    # ------------------------------------------------------------------------------- Gemini
    def _gemini_create(self, headers: dict, target: str, model: str, body: dict) -> tuple[int, Any, str]:
        denied = self._authorized(headers, target, "gemini")
        if denied:
            return denied
        batch = body.get("batch") or {}
        requests = ((batch.get("inputConfig") or {}).get("requests") or {}).get("requests") or []
        if not requests:
            return 400, error_body("gemini", 400, message="batch.inputConfig.requests is empty"), "application/json"
        batch_id = f"batches/{uuid.uuid4().hex[:20]}"
        results = []
        for entry in requests:
            kind, payload = self._answer("gemini", f"/v1beta/models/{model}:generateContent", entry.get("request"),
                                         headers, batch_id)
            results.append((entry.get("metadata"), kind, payload))
        self._new("gemini", batch_id.split("/", 1)[1], results, model=f"models/{model}",
                  display_name=batch.get("displayName"))
        return 200, self._gemini_view(batch_id.split("/", 1)[1]), "application/json"

    def _gemini_view(self, batch_id: str) -> dict:
        batch = self.batches[batch_id]
        done = self._done(batch)
        expired = any(kind == "expired" for _, kind, _ in batch["results"])
        state = "BATCH_STATE_RUNNING" if not done else ("BATCH_STATE_EXPIRED" if expired else "BATCH_STATE_SUCCEEDED")
        created = batch["created_at"]
        metadata: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": batch["model"], "displayName": batch["display_name"], "name": f"batches/{batch_id}",
            "state": state, "createTime": _iso(created), "updateTime": _iso(time.time()),
            "batchStats": {"requestCount": str(len(batch["results"]))}}
        if done and not expired:
            answers = []
            for meta, kind, payload in batch["results"]:
                if kind == "ok":
                    answers.append({"response": payload, "metadata": meta})
                else:
                    status, body = payload
                    answers.append({"error": body["error"], "metadata": meta})
            metadata["output"] = {"inlinedResponses": {"inlinedResponses": answers}}
            metadata["endTime"] = _iso(time.time())
        return {"name": f"batches/{batch_id}", "metadata": metadata, "done": done}

