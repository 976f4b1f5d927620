"""Typed, frozen configuration read once from the environment.

Development generates its keys into ``instance/`` (mode 0600) when they are absent;
production refuses to start without them.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

Environment = Literal["development", "testing", "production"]
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


class ConfigurationError(RuntimeError):
    """Raised at start when the configuration is unusable."""


def _read_or_create_key(path: Path, create: bool) -> bytes:
    if path.exists():
        raw = path.read_text().strip()
        return base64.urlsafe_b64decode(raw)
    if not create:
        raise ConfigurationError(f"Missing key file {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode())
    return key


def _key_from_env(name: str) -> bytes | None:
    value = os.environ.get(name)
    if not value:
        return None
    return _decode_key(value, name)


def _decode_key(value: str, source: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.strip())
    except ValueError as exc:
        raise ConfigurationError(f"{source} must be 32 bytes encoded in URL-safe base64") from exc
    if len(key) != 32:
        raise ConfigurationError(f"{source} must be 32 bytes encoded in URL-safe base64")
    return key


def _retired_master_keys(instance: Path, environment: Environment) -> tuple[bytes, ...]:
    """MASTER_KEYS_RETIRED (comma-separated), then, outside production, instance/retired_keys/."""
    value = os.environ.get("MASTER_KEYS_RETIRED", "")
    keys = [_decode_key(item, "MASTER_KEYS_RETIRED") for item in value.split(",") if item.strip()]
    folder = instance / "retired_keys"
    if environment != "production" and folder.is_dir():
        for path in sorted(folder.iterdir()):
            # Dot files are temporary files of a retirement in progress.
            if path.is_file() and not path.name.startswith("."):
                keys.append(_decode_key(path.read_text(), str(path)))
    return tuple(keys)


def _proxy_hops() -> int:
    value = os.environ.get("PROXY_HOPS", "0")
    if not value.isdigit() or int(value) > 5:
        raise ConfigurationError("PROXY_HOPS is the number of reverse proxies in front (0 to 5)")
    return int(value)


@dataclass(frozen=True)
class Settings:
    environment: Environment
    secret_key: bytes = field(repr=False)
    master_key: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)
    instance_path: Path = DEFAULT_INSTANCE
    database_url: str = ""
    smtp_url: str | None = None
    sms_url: str | None = None
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:5000"
    mail_from: str = "Carnet <ne-pas-repondre@carnet.example>"
    idle_minutes_patient: int = 30
    idle_minutes_staff: int = 15
    absolute_hours: int = 12
    reauth_minutes: int = 5
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    rate_limits_enabled: bool = True
    max_upload_bytes: int = 20 * 1024 * 1024
    # How long an emergency access window stays open (SPEC §4.5), in minutes.
    emergency_minutes: int = 120
    proxy_hops: int = 0
    # The print spool: each postal letter is written there as a PDF (default <instance>/letters).
    letters_dir: Path = DEFAULT_INSTANCE / "letters"
    # Signed copies of every chain's head (`flask audit checkpoint`): on storage the database
    # administrator cannot write, so that cutting a chain's tail shows (SPEC §8).
    audit_checkpoint_dir: Path = DEFAULT_INSTANCE / "audit-checkpoints"
    # An auditor's address that receives each checkpoint's digest: a copy nobody here can edit.
    audit_witness_email: str | None = None
    # Former master keys, still able to unwrap blob keys until `flask keys rotate` has run.
    retired_master_keys: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def is_development(self) -> bool:
        return self.environment == "development"

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, instance_path: Path | None = None) -> Settings:
        instance = Path(os.environ.get("CARNET_INSTANCE", instance_path or DEFAULT_INSTANCE))
        # Fail closed: without CARNET_ENV or the file `make run` writes, this is production.
        marker = instance / "environment"
        env_name = os.environ.get("CARNET_ENV") or (
            marker.read_text().strip() if marker.exists() else "production"
        )
        if env_name not in ("development", "testing", "production"):
            raise ConfigurationError("CARNET_ENV must be development, testing or production")
        environment: Environment = env_name  # type: ignore[assignment]
        create = environment != "production"
        keys = {}
        for name, filename in (
            ("SECRET_KEY", "secret_key"),
            ("MASTER_KEY", "master_key"),
            ("AUDIT_KEY", "audit_key"),
        ):
            from_env = _key_from_env(name)
            if from_env is None and environment == "production":
                raise ConfigurationError(f"{name} is required in production")
            keys[name] = from_env or _read_or_create_key(instance / filename, create)
        database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'carnet.db'}"
        if environment == "production" and database_url.startswith("sqlite"):
            raise ConfigurationError("Production needs DATABASE_URL pointing at PostgreSQL")
        public_url = os.environ.get("PUBLIC_URL")
        if not public_url:
            if environment == "production":
                raise ConfigurationError("PUBLIC_URL is required in production")
            host = os.environ.get("HOST", "127.0.0.1")
            public_url = f"http://{host}:{os.environ.get('PORT', '5000')}"
        return cls(
            environment=environment,
            secret_key=keys["SECRET_KEY"],
            master_key=keys["MASTER_KEY"],
            audit_key=keys["AUDIT_KEY"],
            instance_path=instance,
            database_url=database_url,
            smtp_url=os.environ.get("SMTP_URL") or None,
            sms_url=os.environ.get("SMS_URL") or None,
            redis_url=os.environ.get("REDIS_URL") or None,
            public_url=public_url.rstrip("/"),
            mail_from=os.environ.get("MAIL_FROM", cls.mail_from),
            proxy_hops=_proxy_hops(),
            emergency_minutes=_emergency_minutes(),
            letters_dir=Path(os.environ.get("LETTERS_DIR") or instance / "letters"),
            audit_checkpoint_dir=Path(
                os.environ.get("AUDIT_CHECKPOINT_DIR") or instance / "audit-checkpoints"
            ),
            audit_witness_email=os.environ.get("AUDIT_WITNESS_EMAIL") or None,
            retired_master_keys=_retired_master_keys(instance, environment),
        )

    @classmethod
    def for_tests(cls, instance_path: Path, database_url: str, **overrides: object) -> Settings:
        base = cls(
            environment="testing",
            secret_key=secrets.token_bytes(32),
            master_key=secrets.token_bytes(32),
            audit_key=secrets.token_bytes(32),
            instance_path=instance_path,
            database_url=database_url,
            argon2_time_cost=1,
            argon2_memory_cost=8,
            argon2_parallelism=1,
            letters_dir=instance_path / "letters",
            audit_checkpoint_dir=instance_path / "audit-checkpoints",
        )
        return replace(base, **overrides)  # type: ignore[arg-type]


def _emergency_minutes() -> int:
    raw = os.environ.get("EMERGENCY_ACCESS_MINUTES", "120")
    if not raw.isdigit() or not 10 <= int(raw) <= 24 * 60:
        raise ConfigurationError("EMERGENCY_ACCESS_MINUTES must be a whole number from 10 to 1440")
    return int(raw)
