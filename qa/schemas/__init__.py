"""The pydantic models shared by the index, the CLI's ``--json``, the service and the UI.

Data flow: ``DocumentMeta`` + body → ``Clause`` list (``documents``) → ``Hit`` (search) → ``Answer`` (ask)
(``search``); the service's own reports and writes in ``service``.
"""

from qa.schemas.documents import (  # noqa: F401
    Clause,
    DocKind,
    Document,
    DocumentMeta,
    Duplicate,
    IngestError,
    IngestReport,
)
from qa.schemas.search import (  # noqa: F401
    MAX_QUERY_CHARS,
    Answer,
    AnswerPart,
    AnswerSentence,
    AskRequest,
    Citation,
    ClauseRef,
    Filters,
    Hit,
    PhraseDocument,
    PhraseHit,
    PhraseRequest,
    PhraseResponse,
    Quote,
    SearchMode,
    SearchRequest,
    SearchResponse,
    SimilarClause,
    SimilarGroup,
    SimilarRequest,
    SimilarResponse,
    Span,
)
from qa.schemas.service import (  # noqa: F401
    ClauseDetail,
    DeleteResult,
    DenseCoverage,
    FeedbackRecord,
    FeedbackRequest,
    FeedbackResult,
    Health,
    ImportReport,
    UploadedFile,
    UploadResult,
)
