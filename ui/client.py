"""HTTP client for the ``qa`` service, returning the pydantic models of :mod:`qa.schemas`.

Every failure surfaces as :class:`ServiceUnavailable` (nothing listening, timeout) or :class:`ServiceError`
(the service answered with an error status), each carrying a Chinese message fit to show an official.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from qa.schemas import (
    Answer,
    AskRequest,
    Clause,
    ClauseDetail,
    Document,
    DocumentMeta,
    FeedbackRequest,
    FeedbackResult,
    Filters,
    Health,
    PhraseRequest,
    PhraseResponse,
    SearchRequest,
    SearchResponse,
    SimilarRequest,
    SimilarResponse,
    UploadResult,
)

DEFAULT_API_URL = "http://127.0.0.1:8000"
M = TypeVar("M", bound=BaseModel)


def api_url() -> str:
    """The service address: ``QA_API_URL`` or http://127.0.0.1:8000."""
    return (os.environ.get("QA_API_URL") or DEFAULT_API_URL).rstrip("/")


class ClientError(Exception):
    """Base of the errors the UI shows instead of a traceback."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class ServiceUnavailable(ClientError):
    """Nothing answers at the service address, or it answered too slowly."""


class ServiceError(ClientError):
    """The service answered with an error status (or a body the UI cannot read)."""


def _known_fields(model: type[BaseModel], data: Any) -> Any:
    """Drop keys a strict (``extra="forbid"``) model does not know, so a newer service still loads."""
    if isinstance(data, dict):
        return {k: v for k, v in data.items() if k in model.model_fields}
    return data


def _document(data: Any) -> Document:
    if isinstance(data, dict):
        data = dict(data)
        data["meta"] = _known_fields(DocumentMeta, data.get("meta"))
        data["clauses"] = [_known_fields(Clause, c) for c in data.get("clauses") or []]
    return Document.model_validate(data)


def _clause_detail(data: Any) -> ClauseDetail:
    if isinstance(data, dict):
        data = dict(data)
        data["doc"] = _known_fields(DocumentMeta, data.get("doc"))
        for key in ("clause", "previous", "next"):
            if data.get(key) is not None:
                data[key] = _known_fields(Clause, data[key])
    return ClauseDetail.model_validate(data)


def _detail(response: httpx.Response) -> str:
    """The service's own explanation of an error status, as text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("message"), str):  # the service's one-line summary
        return body["message"]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):  # FastAPI validation errors
        parts = []
        for item in detail:
            if isinstance(item, dict):
                where = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", "")))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


_STATUS_TEXT = {
    400: "请求有误",
    401: "口令无效或未提供",
    403: "无权执行此操作",
    404: "未找到",
    413: "文件过大",
    415: "不支持的文件格式",
    422: "请求内容不符合要求",
    503: "服务暂不可用",
}


class ApiClient:
    """Synchronous client for one service address."""

    def __init__(self, base_url: str | None = None, token: str | None = None, timeout: float = 120.0,
                 transport: httpx.BaseTransport | None = None):
        self.base_url = (base_url or api_url()).rstrip("/")
        self.token = token or None
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(timeout, connect=5.0),
                                  transport=transport, trust_env=False)

    def close(self) -> None:
        self._http.close()

    # -- plumbing ------------------------------------------------------------------------------
    def _request(self, method: str, path: str, *, auth: bool = False, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if auth:
            if not self.token:
                raise ServiceError("此操作需要管理口令：请设置环境变量 QA_API_TOKEN 或在侧栏填写口令。", 401)
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            raise ServiceUnavailable(f"检索服务 {self.base_url} 响应超时，请稍后重试。") from exc
        except httpx.TransportError as exc:
            raise ServiceUnavailable(f"无法连接检索服务 {self.base_url}，请确认服务已启动（qa serve）。") from exc
        if response.status_code >= 400:
            label = _STATUS_TEXT.get(response.status_code, "服务出错")
            raise ServiceError(f"{label}（HTTP {response.status_code}）：{_detail(response)}", response.status_code)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceError(f"服务返回了无法解析的内容（{path}）。") from exc

    def _model(self, model: type[M], data: Any) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise ServiceError(f"服务返回的数据与约定格式不符（{model.__name__}）：{exc.errors()[0]['msg']}") from exc

    # -- endpoints -----------------------------------------------------------------------------
    def health(self) -> Health:
        return self._model(Health, _known_fields(Health, self._request("GET", "/health")))

    def search(self, query: str, k: int = 10, mode: str = "hybrid", filters: Filters | None = None) -> SearchResponse:
        body = SearchRequest(query=query, k=k, mode=mode, filters=filters).model_dump(exclude_none=True)
        return self._model(SearchResponse, self._request("POST", "/search", json=body))

    def phrase(self, phrase: str, filters: Filters | None = None, limit: int = 200) -> PhraseResponse:
        """Every clause holding ``phrase`` verbatim, with the true counts (``POST /search/phrase``)."""
        body = PhraseRequest(phrase=phrase, filters=filters, limit=limit).model_dump(exclude_none=True)
        return self._model(PhraseResponse, self._request("POST", "/search/phrase", json=body))

    def feedback(self, request: FeedbackRequest) -> FeedbackResult:
        """Store which clauses were useful for a question (``POST /feedback``, needs the token)."""
        body = request.model_dump(exclude_none=True)
        return self._model(FeedbackResult, self._request("POST", "/feedback", auth=True, json=body))

    def ask(self, question: str, k: int = 5, filters: Filters | None = None) -> Answer:
        body = AskRequest(question=question, k=k, filters=filters).model_dump(exclude_none=True)
        return self._model(Answer, self._request("POST", "/ask", json=body))

    def similar(self, text: str, k: int = 10, exclude_doc_ids: Iterable[str] = ()) -> SimilarResponse:
        body = SimilarRequest(text=text, k=k, exclude_doc_ids=list(exclude_doc_ids)).model_dump()
        return self._model(SimilarResponse, self._request("POST", "/similar", json=body))

    def documents(self) -> list[DocumentMeta]:
        data = self._request("GET", "/documents")
        if isinstance(data, dict):  # tolerate {"documents": [...]}
            data = data.get("documents", [])
        try:
            return [DocumentMeta.model_validate(_known_fields(DocumentMeta, d)) for d in data or []]
        except ValidationError as exc:
            raise ServiceError(f"服务返回的文件列表与约定格式不符：{exc.errors()[0]['msg']}") from exc

    def document(self, doc_id: str) -> Document:
        data = self._request("GET", f"/documents/{_quote(doc_id)}")
        try:
            return _document(data)
        except ValidationError as exc:
            raise ServiceError(f"服务返回的文件与约定格式不符：{exc.errors()[0]['msg']}") from exc

    def clause(self, clause_id: str) -> ClauseDetail:
        data = self._request("GET", f"/clauses/{_quote(clause_id)}")
        try:
            return _clause_detail(data)
        except ValidationError as exc:
            raise ServiceError(f"服务返回的条款与约定格式不符：{exc.errors()[0]['msg']}") from exc

    def upload(self, files: list[tuple[str, bytes]]) -> UploadResult:
        """Send files (name, bytes) to ``POST /documents`` as multipart field ``files``."""
        parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
        data = self._request("POST", "/documents", auth=True, files=parts)
        if isinstance(data, dict) and "report" not in data and "added" in data:  # a bare IngestReport
            data = {"report": data}
        return self._model(UploadResult, data)

    def delete(self, doc_id: str) -> None:
        self._request("DELETE", f"/documents/{_quote(doc_id)}", auth=True)


def _quote(segment: str) -> str:
    from urllib.parse import quote

    return quote(segment, safe="")
