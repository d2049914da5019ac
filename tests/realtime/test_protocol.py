"""Unit tests of the Pusher wire format, names and signatures (no I/O)."""

from __future__ import annotations

import json

import pusher
import pytest

from mockserver.realtime import RealtimeConfig
from mockserver.realtime.protocol import (
    CloseCode,
    ProtocolError,
    decode_client_frame,
    encode_error,
    encode_frame,
    is_valid_channel,
    is_valid_socket_id,
    new_socket_id,
    sign_channel,
    verify_channel_auth,
)

KEY, SECRET = "buildd-mock-key", "buildd-mock-secret"


def test_server_frame_data_is_a_json_string() -> None:
    frame = json.loads(encode_frame("pusher:connection_established", {"socket_id": "1.2", "activity_timeout": 120}))
    assert frame == {"event": "pusher:connection_established", "data": '{"socket_id":"1.2","activity_timeout":120}'}
    assert json.loads(encode_frame("task:created", '{"a":1}', "workspace-1")) == {
        "event": "task:created",
        "channel": "workspace-1",
        "data": '{"a":1}',
    }
    assert json.loads(encode_error(4001, "nope")) == {"event": "pusher:error", "data": '{"code":4001,"message":"nope"}'}


def test_decode_accepts_object_and_string_data() -> None:
    a = decode_client_frame('{"event":"pusher:subscribe","data":{"channel":"c"}}')
    b = decode_client_frame('{"event":"pusher:subscribe","data":"{\\"channel\\":\\"c\\"}"}')
    assert a.data == b.data == {"channel": "c"}
    assert decode_client_frame('{"event":"client-x","channel":"private-a","data":"plain"}').data == "plain"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1,2]",
        "{}",
        '{"event": 3}',
        '{"event":"x","channel":5}',
        b"\xff\xfe",
        json.dumps({"event": "x" * 201}),
    ],
)
def test_decode_refuses_malformed_frames(text: str | bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        decode_client_frame(text)
    assert info.value.code == CloseCode.INVALID_MESSAGE == 4300


def test_close_codes_match_the_protocol() -> None:
    assert (
        CloseCode.APP_NOT_FOUND,
        CloseCode.PATH_NOT_FOUND,
        CloseCode.UNSUPPORTED_PROTOCOL,
        CloseCode.NO_PROTOCOL_VERSION,
        CloseCode.UNAUTHORIZED,
    ) == (4001, 4005, 4007, 4008, 4009)
    assert (CloseCode.OVER_CAPACITY, CloseCode.RECONNECT, CloseCode.PONG_NOT_RECEIVED) == (4100, 4200, 4201)


def test_channel_names() -> None:
    assert is_valid_channel("workspace-1") and is_valid_channel("private-a_b=c@d,e.f;g")
    assert is_valid_channel("a" * 164) and not is_valid_channel("a" * 165)
    for bad in ("", "has space", "slash/", "ü", None, 5):
        assert not is_valid_channel(bad)


def test_socket_ids() -> None:
    ids = {new_socket_id() for _ in range(200)}
    assert len(ids) == 200 and all(is_valid_socket_id(i) for i in ids)
    assert not is_valid_socket_id("1.") and not is_valid_socket_id("a.1") and not is_valid_socket_id("12")


def test_channel_signature_matches_the_official_sdk() -> None:
    sdk = pusher.Pusher(RealtimeConfig().app_id, KEY, SECRET)
    expected = sdk.authenticate(channel="private-workspace-1", socket_id="123.456")["auth"]
    assert sign_channel(KEY, SECRET, "123.456", "private-workspace-1") == expected
    assert verify_channel_auth(KEY, SECRET, "123.456", "private-workspace-1", expected)
    assert not verify_channel_auth(KEY, SECRET, "123.457", "private-workspace-1", expected)  # other socket
    assert not verify_channel_auth(KEY, SECRET, "123.456", "private-workspace-2", expected)  # other channel
    assert not verify_channel_auth(KEY, "other-secret", "123.456", "private-workspace-1", expected)
    assert not verify_channel_auth("other-key", SECRET, "123.456", "private-workspace-1", expected)
    assert not verify_channel_auth(KEY, SECRET, "123.456", "private-workspace-1", None)


def test_config_refuses_values_the_sdk_cannot_use() -> None:
    with pytest.raises(ValueError, match="digits"):
        RealtimeConfig(app_id="buildd-mock")
    with pytest.raises(ValueError, match="max_queue"):
        RealtimeConfig(max_queue=0)
