"""Settings section of raffles: where results are posted and where ticket GEMS go.

Part of the guild settings (economy/registry.py composes them); keys are stored flat.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from economy.core.sections import Section


class RaffleSettings(Section):
    """Raffles: members buy tickets with GEMS; a verifiable draw picks the winners."""

    raffle_channel_id: int | None = Field(None, description="Where raffle results are posted (default: the channel the raffle was created in)")
    raffle_sink: Literal["treasury", "burn"] = Field("treasury", description="What happens to the GEMS paid for raffle tickets: they go to the server treasury, or are burned (refunds on cancel either way)")
