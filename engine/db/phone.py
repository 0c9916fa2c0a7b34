"""Phone numbers as Twilio-style channels need them: verification codes and SMS opt-outs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db.base import Base


class PhoneVerification(Base):
    """The one outstanding verification code of a user's number; only its hash is stored."""

    __tablename__ = "phone_verifications"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    phone_number: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class SmsOptOut(Base):
    """A number that replied STOP: no SMS goes to it until it replies START."""

    __tablename__ = "sms_opt_outs"

    phone_number: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime]
