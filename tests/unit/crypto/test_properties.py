"""Round trips over arbitrary values and valid names (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sealer import errors
from sealer.crypto import envelope, keyring, keys, scope

NAMESPACES = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
NAMES = st.from_regex(
    r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?){0,3}",
    fullmatch=True,
)
ITEMS = st.from_regex(r"[-._a-zA-Z0-9]{1,253}", fullmatch=True)
VALUES = st.binary(max_size=4096)
SCOPES = st.sampled_from(list(scope.Scope))
FAST = settings(max_examples=40, deadline=None)


@FAST
@given(value=VALUES, sc=SCOPES, namespace=NAMESPACES, name=NAMES, item=ITEMS)
def test_v1_round_trips_any_value(
    generation: keys.KeyGeneration,
    value: bytes,
    sc: scope.Scope,
    namespace: str,
    name: str,
    item: str,
) -> None:
    label = scope.label(sc, namespace=namespace, name=name)
    blob = envelope.encrypt_v1(value, rsa=generation.rsa.public_key(), label=label)
    assert envelope.decrypt_v1(blob, rsa=generation.rsa, label=label, item=item) == value


@FAST
@given(
    value=VALUES,
    sc=SCOPES,
    namespace=NAMESPACES,
    name=NAMES,
    item=ITEMS,
    suite=st.sampled_from(list(envelope.Suite)),
)
def test_v2_round_trips_any_value_in_both_suites(
    generation: keys.KeyGeneration,
    value: bytes,
    sc: scope.Scope,
    namespace: str,
    name: str,
    item: str,
    suite: envelope.Suite,
) -> None:
    label = scope.label(sc, namespace=namespace, name=name)
    blob = envelope.encrypt_v2(
        value, public=generation.public(), label=label, item=item, suite=suite
    )
    assert envelope.decrypt_v2(blob, generation=generation, label=label, item=item) == value


@FAST
@given(
    value=VALUES,
    item=ITEMS,
    version=st.sampled_from([1, 2]),
    suite=st.sampled_from(list(envelope.Suite)),
)
def test_keyring_text_round_trips(
    generation: keys.KeyGeneration,
    value: bytes,
    item: str,
    version: int,
    suite: envelope.Suite,
) -> None:
    ring = keyring.Keyring([generation])
    text = ring.encrypt(value, label=b"ns/name", item=item, version=version, suite=suite)
    assert text.isascii()
    assert ring.decrypt(text, label=b"ns/name", item=item) == (value, generation.key_id)


@FAST
@given(
    first=st.tuples(NAMESPACES, NAMES, ITEMS),
    second=st.tuples(NAMESPACES, NAMES, ITEMS),
    suite=st.sampled_from(list(envelope.Suite)),
)
def test_v2_value_opens_only_for_its_own_namespace_name_and_item(
    generation: keys.KeyGeneration,
    first: tuple[str, str, str],
    second: tuple[str, str, str],
    suite: envelope.Suite,
) -> None:
    label_1 = scope.label(scope.Scope.STRICT, namespace=first[0], name=first[1])
    label_2 = scope.label(scope.Scope.STRICT, namespace=second[0], name=second[1])
    blob = envelope.encrypt_v2(
        b"v", public=generation.public(), label=label_1, item=first[2], suite=suite
    )
    try:
        opened = envelope.decrypt_v2(blob, generation=generation, label=label_2, item=second[2])
    except errors.UnsealError:
        assert first != second
    else:
        assert first == second and opened == b"v"
