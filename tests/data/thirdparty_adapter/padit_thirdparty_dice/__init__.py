"""A third-party PADIT adapter: rolls a loaded die (for the entry-point registry test)."""

from __future__ import annotations

from pydantic import Field

from adapters.base import Adapter, EndpointConfig, ProbeResult, Sample

__all__ = ["DiceAdapter", "DiceEndpoint"]


class DiceEndpoint(EndpointConfig):
    sides: int = Field(default=6, ge=2)


class DiceAdapter(Adapter[DiceEndpoint]):
    config_model = DiceEndpoint
    protocol = "dice"

    async def collect(self) -> list[ProbeResult]:
        return [ProbeResult([Sample("roll", float(self.config.sides))])]
