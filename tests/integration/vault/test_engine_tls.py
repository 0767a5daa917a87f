"""TLS to Vault: the store's CA bundle is trusted, and only it (no fallback to system CAs)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from controller.vault import store
from sealer import errors
from tests.integration.vault import engine
from tests.vaultserver import VaultTestServer

pytestmark = pytest.mark.integration


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _leaf(ca_key: ec.EllipticCurvePrivateKey,
          ca: x509.Certificate) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("vault")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def tls_vault(tmp_path: Path) -> Iterator[tuple[VaultTestServer, str]]:
    ca_key, ca = _ca("test vault ca")
    key, leaf = _leaf(ca_key, ca)
    cert_file, key_file = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert_file.write_text(_pem(leaf))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    with VaultTestServer.start(ssl_context=context) as server:
        server.kv2_put(path="shop/db", data={"k": "v"})
        yield server, _pem(ca)


def _store(server: VaultTestServer, ca_pem: str | None) -> store.StoreConfig:
    spec = {"server": server.url,
            "auth": {"token": {"secretRef": {"name": "t", "key": "token"}}}}
    if ca_pem is not None:
        spec["caBundle"] = ca_pem
    return store.parse_store(spec, kind=store.VAULT_STORE, store_namespace="shop")


def test_store_ca_bundle_makes_the_vault_certificate_trusted(
        tls_vault: tuple[VaultTestServer, str]) -> None:
    server, ca_pem = tls_vault
    assert server.url.startswith("https://")
    with engine.session(_store(server, ca_pem), engine.Credentials("root")) as s:
        assert s.read("shop/db").data == {"k": "v"}


def test_without_the_ca_bundle_tls_verification_fails(
        tls_vault: tuple[VaultTestServer, str]) -> None:
    server, _ = tls_vault
    with engine.session(_store(server, None), engine.Credentials("root")) as s, \
            pytest.raises(errors.VaultError) as info:
        s.read("shop/db")
    assert info.value.reason == "VaultUnavailable" and "TLS" in str(info.value)


def test_a_different_ca_is_not_trusted(tls_vault: tuple[VaultTestServer, str]) -> None:
    server, _ = tls_vault
    other = _pem(_ca("someone else")[1])
    with engine.session(_store(server, other), engine.Credentials("root")) as s, \
            pytest.raises(errors.VaultError) as info:
        s.read("shop/db")
    assert "TLS" in str(info.value)


def test_ca_from_a_ca_provider_is_passed_in_by_the_caller(
        tls_vault: tuple[VaultTestServer, str]) -> None:
    server, ca_pem = tls_vault
    config = store.parse_store(
        {"server": server.url, "caProvider": {"type": "Secret", "name": "ca", "key": "ca.crt"},
         "auth": {"token": {"secretRef": {"name": "t", "key": "token"}}}},
        kind=store.VAULT_STORE, store_namespace="shop")
    with pytest.raises(ValueError):
        engine.session(config, engine.Credentials("root")).__enter__()
    with engine.session(config, engine.Credentials("root"), ca_pem=ca_pem) as s:
        assert s.read("shop/db").data == {"k": "v"}


def test_environment_ca_bundles_do_not_widen_a_pinned_store_ca(
        tls_vault: tuple[VaultTestServer, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, ca_pem = tls_vault
    env_bundle = tmp_path / "env-ca.pem"
    env_bundle.write_text(ca_pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(env_bundle))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(env_bundle))
    other = _pem(_ca("someone else")[1])
    with engine.session(_store(server, other), engine.Credentials("root")) as s, \
            pytest.raises(errors.VaultError) as info:
        s.read("shop/db")
    assert "TLS" in str(info.value)
