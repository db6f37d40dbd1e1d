"""Settings section of trades: escrow trades: fees, deadlines, new-member caps, repeated-pair flags, the trade channels.

Part of the guild settings (economy/registry.py composes them); stored under the same flat
keys as ever, so no data migration.
"""

from __future__ import annotations

from pydantic import Field

from economy.core.sections import MAX_AMOUNT, Section


class TradesSettings(Section):
    """Escrow trades: fees, deadlines, new-member caps, repeated-pair flags, the trade channels."""

    trade_channel_id: int | None = Field(None, description="Channel where private trade threads are opened")
    dispute_channel_id: int | None = Field(None, description="Moderator queue channel for disputes and flags")
    escrow_fee_bps: int = Field(250, ge=0, le=5000, description="Trade fee in basis points (250 = 2.5%), to the treasury")
    escrow_auto_release_days: int = Field(3, ge=1, le=60, description="Days after delivery before held GEMS auto-release")
    escrow_delivery_days: int = Field(7, ge=1, le=90, description="Days the seller has to deliver before auto-cancel")
    escrow_new_member_trades: int = Field(3, ge=0, le=100, description="Completed trades before the new-member cap lifts")
    escrow_new_member_max: int = Field(1000, ge=1, le=MAX_AMOUNT, description="Largest trade for members still new to trading")
    escrow_wash_trade_count: int = Field(3, ge=2, le=100, description="Trades by one pair within the window that get flagged")
    escrow_wash_trade_days: int = Field(7, ge=1, le=90, description="Window (days) for the repeated-pair flag")
    offer_max_open_to_member: int = Field(3, ge=1, le=50, description="Open trade offers one member may receive at once")
    offer_cooldown_seconds: int = Field(30, ge=0, le=86_400, description="Seconds between two trade offers by one member")
    escrow_wash_trade_block: bool = Field(False, description="Refuse new trades between a flagged repeated pair (not only report them)")
