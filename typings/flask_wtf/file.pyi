from typing import Any

from wtforms import Field

class FileField(Field):
    def __init__(self, label: str | None = ..., validators: Any = ..., **kwargs: Any) -> None: ...

class FileRequired:
    def __init__(self, message: str | None = ...) -> None: ...
    def __call__(self, form: Any, field: Any) -> None: ...
