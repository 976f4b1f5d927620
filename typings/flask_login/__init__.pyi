# Only the names Carnet uses.
from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from flask.typing import ResponseReturnValue

class LoginManager:
    session_protection: str | None
    def __init__(self, app: Flask | None = ..., add_context_processor: bool = ...) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = ...) -> None: ...
    def request_loader(self, callback: Callable[[Request], Any]) -> Callable[[Request], Any]: ...
    def unauthorized_handler(
        self, callback: Callable[[], ResponseReturnValue]
    ) -> Callable[[], ResponseReturnValue]: ...

class _CurrentUser:
    is_authenticated: bool
    is_anonymous: bool
    def _get_current_object(self) -> object: ...

current_user: _CurrentUser
