"""AsyncAPI out and in: `export_asyncapi(catalog)` is the catalog as one AsyncAPI 3.0 document
(`export_asyncapi_per_context` one per context); `import_asyncapi(document)` reads an AsyncAPI
2.x / 3.0 document back into catalog data, with warnings for what a catalog cannot say."""

from tidings.asyncapi._export import (
    ASYNCAPI_VERSIONS,
    CORRELATION_HEADER,
    export_asyncapi,
    export_asyncapi_per_context,
)
from tidings.asyncapi._import import AsyncAPIError, ImportResult, import_asyncapi
from tidings.asyncapi._text import dump_document

__all__ = [
    "ASYNCAPI_VERSIONS",
    "CORRELATION_HEADER",
    "AsyncAPIError",
    "ImportResult",
    "dump_document",
    "export_asyncapi",
    "export_asyncapi_per_context",
    "import_asyncapi",
]
