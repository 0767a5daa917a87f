"""A container for plaintext secret bytes that never prints itself.

Owned here so that every layer (manifests, CLI, controller) can carry a decrypted value without
risking it in a log line, an exception message, an f-string or a repr. The bytes come out only
through an explicit `reveal()`.
"""

from __future__ import annotations

from typing import NoReturn

__all__ = ["SecretBytes"]


class SecretBytes:
    """Plaintext bytes whose `repr()`/`str()` is `<redacted N bytes>`.

    There is deliberately no `__bytes__`: `bytes(secret)` raises `TypeError`, so the only way out
    is `reveal()`. Equality is constant-time; instances are unhashable (a hash would be an oracle
    and a dict key would end up in a repr) and cannot be pickled.
    """

    __slots__ = ("_value",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, value: bytes | bytearray | memoryview) -> None:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"SecretBytes wraps bytes, not {type(value).__name__}")
        self._value = bytes(value)

    def reveal(self) -> bytes:
        """The plaintext. Call it at the last moment, where the bytes are consumed."""
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"<redacted {len(self._value)} bytes>"

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        import hmac  # here, not at the top: it imports hashlib (~2 ms of every `seal` run)

        if isinstance(other, SecretBytes):
            return hmac.compare_digest(self._value, other._value)
        if isinstance(other, bytes):
            return hmac.compare_digest(self._value, other)
        return NotImplemented

    def __copy__(self) -> SecretBytes:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, object]) -> SecretBytes:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError("SecretBytes cannot be pickled")
