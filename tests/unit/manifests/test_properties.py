"""Properties: what `seal` writes it reads back unchanged; any bytes survive seal -> unseal."""

from __future__ import annotations

import base64

import hypothesis.strategies as st
from hypothesis import given, settings

from sealer.crypto import keyring, keys, plaintext
from sealer.manifests import safeyaml, seal, secrets

# Text YAML can carry: no surrogates, and none of the C0/C1 controls the YAML reader refuses.
yaml_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="".join(map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0)]))
        .replace("\t", "")
        .replace("\n", ""),
    ),
    max_size=40,
)
item_keys = st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True).filter(
    lambda k: k not in {".", ".."}
)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(yaml_text, yaml_text, max_size=6))
def test_dumped_strings_load_back_as_the_same_strings(mapping: dict[str, str]) -> None:
    # YAML 1.1 typing traps ("no", "0123", "~", "=", dates) must be quoted by the writer.
    text = safeyaml.dump([{"data": mapping}])
    assert safeyaml.load_documents(text.encode(), source="x") == [{"data": mapping}]


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(item_keys, yaml_text, min_size=1, max_size=4))
def test_string_data_values_are_taken_verbatim(values: dict[str, str]) -> None:
    doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}, "stringData": values}
    text = safeyaml.dump([doc])
    parsed = secrets.parse_secret(safeyaml.load_one(text.encode(), source="x"))
    assert {k: v.reveal() for k, v in parsed.data.items()} == {
        k: v.encode() for k, v in values.items()
    }


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(item_keys, st.binary(max_size=300), min_size=1, max_size=3))
def test_any_bytes_round_trip_through_seal_and_unseal(
    generation: keys.KeyGeneration, ring: keyring.Keyring, data: dict[str, bytes]
) -> None:
    secret = secrets.SecretManifest(
        name="db", namespace="prod", data={k: plaintext.SecretBytes(v) for k, v in data.items()}
    )
    doc = seal.seal_secret(secret, public=generation.public(), scope=None)
    reloaded = safeyaml.load_one(safeyaml.dump([doc]).encode(), source="x")
    opened = seal.unseal(reloaded, keyring=ring)
    assert {k: base64.b64decode(v) for k, v in opened["data"].items()} == data
