"""Settings, read once from the environment (SPEC §2). The only module that reads the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOCSIN_", extra="ignore")

    database_url: str = "sqlite:///./tocsin.db"
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    api_token: str | None = None

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Beyond SPEC §2: the slash command's name, and whether Slack listeners finish before the HTTP
    # answer (True suits tests and FaaS; False acks within Slack's 3 s and works on in a thread).
    slack_command: str = "/oncall"
    slack_process_before_response: bool = False

    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    # Beyond SPEC §2: page numbers nobody verified (for self-hosters who trust their data), and the
    # per-user cap on SMS and calls in any 24 hours (logged and on the timeline when hit).
    twilio_allow_unverified: bool = False
    twilio_daily_cap: int = Field(default=200, ge=1)

    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    webhook_allowed_hosts: str | None = None

    # Beyond SPEC §2 (documented in the README).
    sweep_interval_seconds: float = Field(default=15.0, gt=0)
    metrics_token: str | None = None
    log_level: str = "INFO"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")


def load_settings() -> Settings:
    """Read the environment once; callers keep the result."""
    return Settings()
