from services.interface_layer.domain.api_keys import hash_secret, issue_key, parse_token, secret_matches


def test_issued_key_round_trips_and_only_its_secret_matches():
    key = issue_key()
    prefix, secret = parse_token(key.token)
    assert prefix == key.prefix
    assert secret_matches(secret, key.hash)
    assert not secret_matches(secret + "x", key.hash)
    assert key.hash == hash_secret(secret) and secret not in key.hash


def test_malformed_tokens_are_not_parsed():
    for token in ["", "cb_", "cb_abc", "xx_abc_def", "cb__secret", "cb_prefix_"]:
        assert parse_token(token) is None, token
