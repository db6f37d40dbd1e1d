"""Frozen copies of feature logic that migrations need (see migrations/README.md).

A migration must do the same thing forever: what it writes is part of the database's history,
and the next version's migrations start from it. So a helper that encodes a feature's data
shape (how a posting is built, a field's name) is copied here, or into the migration itself,
at the version that introduced it, and never edited afterwards. When the live shape changes,
a new migration converts the data; it does not change the copy.
"""
