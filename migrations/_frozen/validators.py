"""Installing `$jsonSchema` validators, as the migrations since 0016 do (frozen: a migration's
behaviour must not change when live code does).

MongoDB keeps a validator given at `create` or by `collMod`; the embedded store accepts both and
keeps none. A collection another process created meanwhile gets its validator by `collMod`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pymongo.errors import CollectionInvalid, OperationFailure

NAMESPACE_EXISTS = 48


async def install_validators(db, validators: Mapping[str, dict]) -> None:
    """Give each named collection its validator (`validationLevel: moderate`), creating the
    collection with it when it does not exist yet. Re-runnable."""
    existing = set(await db.list_collection_names())
    for name, validator in validators.items():
        spec = {"validator": validator, "validationLevel": "moderate"}
        if name in existing:
            await db.command({"collMod": name, **spec})
            continue
        try:
            await db.create_collection(name, **spec)
        except (CollectionInvalid, OperationFailure) as error:  # created meanwhile
            if getattr(error, "code", NAMESPACE_EXISTS) != NAMESPACE_EXISTS:
                raise
            await db.command({"collMod": name, **spec})
