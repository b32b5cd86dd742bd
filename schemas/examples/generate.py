#!/usr/bin/env python3
"""Regenerates schemas/examples/** (valid, invalid + expected.json, stored).

Run from anywhere: python3 schemas/examples/generate.py, then tools/schema-check --check.
The example files are the contract the tests read; this script is only how they
were written. It deletes and rewrites the four example folders.
"""
import json, hashlib, shutil
from pathlib import Path

EX = Path(__file__).resolve().parent
for sub in ["valid", "invalid", "stored/valid", "stored/invalid"]:
    d = EX / sub
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)

def dumps(obj):
    return json.dumps(obj, ensure_ascii=False)

def write(sub, name, content):
    path = EX / sub / name
    assert not path.exists(), name
    if isinstance(content, (dict, list)):
        content = dumps(content) + "\n"
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)

def pad_to(obj, size):
    """obj as one line, padded with spaces after '{' to exactly size bytes."""
    text = dumps(obj)
    n = size - len(text.encode("utf-8"))
    assert n >= 0
    return ("{" + " " * n + text[1:]).encode("utf-8")

T = "2026-03-02T12:00:00Z"
def conv(**kw):
    d = {"id": "c-1", "type": "conversion", "program": "shop", "time": T,
         "participant": "bob", "order": "o-1", "amount": 2500, "currency": "USD"}
    d.update(kw); return d
def prog(rules=None, **kw):
    d = {"id": "p-1", "type": "program", "program": "shop", "time": "2026-03-01T09:00:00Z",
         "rules": rules if rules is not None else {"currency": "USD", "referrer_reward": {"fixed": 1000}}}
    d.update(kw); return d
def signup(**kw):
    d = {"id": "s-bob", "type": "signup", "program": "shop", "time": "2026-03-01T10:00:00Z", "participant": "bob"}
    d.update(kw); return d
def invite(**kw):
    d = {"id": "i-1", "type": "invite", "program": "shop", "time": "2026-03-01T09:30:00Z", "participant": "alice", "channel": "email"}
    d.update(kw); return d
def click(**kw):
    d = {"id": "k-1", "type": "click", "program": "shop", "time": "2026-03-01T09:45:00Z", "code": "ALICE2026", "visitor": "v-bob"}
    d.update(kw); return d
def refund(**kw):
    d = {"id": "r-1", "type": "refund", "program": "shop", "time": "2026-03-05T08:00:00Z", "order": "o-1", "amount": 1000}
    d.update(kw); return d
def payout(**kw):
    d = {"id": "po-1", "type": "payout", "program": "shop", "time": "2026-03-20T08:00:00Z", "participant": "alice", "payout": "pay-1", "amount": 150, "currency": "USD"}
    d.update(kw); return d
def settled(**kw):
    d = {"id": "ps-1", "type": "payout_settled", "program": "shop", "time": "2026-03-21T08:00:00Z", "payout": "pay-1"}
    d.update(kw); return d
def failed(**kw):
    d = {"id": "pf-1", "type": "payout_failed", "program": "shop", "time": "2026-03-21T08:00:00Z", "payout": "pay-1"}
    d.update(kw); return d
def without(d, *keys):
    d = dict(d)
    for k in keys: del d[k]
    return d
def rules(**kw):
    r = {"currency": "USD", "referrer_reward": {"percent_bps": 500}}
    r.update(kw); return r

SPEC_RULES = {
    "currency": "USD", "attribution_window_days": 30, "trigger": "first_conversion",
    "referrer_reward": {"percent_bps": 500}, "referee_reward": {"fixed": 1000},
    "tiers": [{"min_referrals": 2, "percent_bps": 300}, {"min_referrals": 6, "percent_bps": 500}],
    "levels_bps": [200, 100], "hold_days": 14, "referrer_cap": 100000,
}
MAX = 9007199254740991

# ---------------------------------------------------------------- valid facts
V = lambda name, content: write("valid", name, content)
V("program.minimal.json", prog())
V("program.spec-example.json", prog(SPEC_RULES))
V("program.all-keys-levels-4.json", prog({
    "currency": "EUR", "attribution_window_days": 7, "trigger": "every_conversion",
    "referrer_reward": {"fixed": 1500}, "referee_reward": {"percent_bps": 250},
    "tiers": [{"min_referrals": 10, "fixed": 5000}, {"min_referrals": 1, "percent_bps": 100}, {"min_referrals": 3, "fixed": 2000}],
    "levels_bps": [300, 200, 100, 50], "hold_days": 30, "referrer_cap": 250000}, id="p-2", program="eu_shop-2"))
V("program.trigger-signup-two-sided.json", prog({"currency": "GBP", "trigger": "signup",
    "referrer_reward": {"fixed": 0}, "referee_reward": {"fixed": 500}}))
V("program.bounds-low.json", prog({"currency": "USD", "attribution_window_days": 0, "trigger": "first_conversion",
    "referrer_reward": {"percent_bps": 0}, "referee_reward": {"fixed": 0},
    "tiers": [{"min_referrals": 1, "fixed": 0}], "levels_bps": [], "hold_days": 0, "referrer_cap": 0}))
V("program.bounds-high.json", prog({"currency": "JPY", "attribution_window_days": 365,
    "referrer_reward": {"percent_bps": 10000}, "referee_reward": {"fixed": MAX},
    "tiers": [{"min_referrals": MAX, "percent_bps": 10000}], "levels_bps": [10000, 10000, 10000, 10000],
    "hold_days": 3650, "referrer_cap": MAX}))
V("program.name-64-chars.json", prog(program="p" + "a-b_c0123" * 7))
V("signup.minimal.json", signup())
V("signup.code-3-chars.json", signup(code="b_1"))
V("signup.codes-32-chars.json", signup(code="B" * 16 + "-_" * 8, referrer_code="aZ09_-" * 5 + "Zz"))
V("signup.referrer-code.json", signup(referrer_code="ALICE2026"))
V("signup.visitor.json", signup(visitor="v-bob"))
V("signup.all-optional.json", signup(code="BOB-2026", referrer_code="alice2026", visitor="cookie:9f86d081.884c7d65"))
V("invite.minimal.json", invite())
V("invite.invitee-sms.json", invite(channel="sms", invitee="sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"))
V("invite.channel-social.json", invite(channel="social"))
V("invite.channel-other.json", invite(channel="other", invitee="h.1"))
V("click.minimal.json", click())
V("click.channel-link.json", click(channel="link", code="alice2026"))
V("conversion.minimal.json", conv())
V("conversion.max-amount.json", conv(amount=MAX))
V("conversion.min-amount-1-char-ids.json", conv(id="c", program="s", participant="b", order="o", amount=1))
V("conversion.max-length-ids.json", conv(id="C" * 120 + "abc.:_-9", participant="P" * 64 + "p" * 64, order="0123456789abcdef" * 8, program="x" * 64))
V("conversion.key-order-and-whitespace.json",
  '\t{ "currency" :"USD" ,"amount":\t2500 , "order": "o-1",  "participant":"bob","time":"2026-03-02T12:00:00Z","program":"shop","id":"c-1","type":"conversion" }  \n')
V("conversion.escaped-strings.json",
  '{"id": "c\\u002D1", "type": "conver\\u0073ion", "program": "sho\\u0070", "time": "2026-03-02T12:00:00Z", '
  '"participant": "\\u0062ob", "order": "o-1", "amount": 2500, "currency": "\\u0055SD"}\n')
V("refund.json", refund())
V("payout.json", payout())
V("payout_settled.json", settled())
V("payout_failed.minimal.json", failed())
V("payout_failed.reason.json", failed(reason="bank rejected: account closed"))
V("payout_failed.reason-empty.json", failed(reason=""))
V("payout_failed.reason-1024-ascii.json", failed(reason="x" * 1024))
V("payout_failed.reason-1024-bytes-emoji.json", failed(reason="\U0001F600" * 256))
V("payout_failed.reason-1024-bytes-2-byte.json", failed(reason="é" * 512))
V("payout_failed.reason-escapes.json",
  '{"id": "pf-1", "type": "payout_failed", "program": "shop", "time": "2026-03-21T08:00:00Z", "payout": "pay-1", '
  '"reason": "line1\\nline2\\t\\"quoted\\" back\\\\slash \\/ \\u00e9 \\ud83d\\ude00 \\u0000"}\n')
V("time.offset-plus-0530.json", conv(time="2026-03-02T17:30:00+05:30"))
V("time.offset-minus-0800-fraction-1.json", refund(time="2026-03-05T00:00:00.5-08:00"))
V("time.fraction-3-digits.json", click(time="2026-03-01T09:45:00.123Z"))
V("time.fraction-2-digits.json", invite(time="2026-03-01T09:30:00.07Z"))
V("time.lowercase-t-and-z.json", signup(time="2026-03-01t10:00:00z"))
V("time.lowercase-z-only.json", settled(time="2026-03-21T08:00:00.000z"))
V("time.offset-minus-0000.json", payout(time="2026-03-20T08:00:00-00:00"))
V("time.offset-plus-2359.json", failed(time="2026-03-21T23:59:59.999+23:59"))
V("time.leap-day-2024.json", prog(time="2024-02-29T00:00:00Z"))
V("time.epoch.json", conv(time="1970-01-01T00:00:00Z"))
V("size.exactly-65536-bytes.json", pad_to(conv(), 65536))

# -------------------------------------------------------------- invalid facts
expected = {}
def I(name, content, field, gap=None):
    code = name.split(".")[0]
    write("invalid", name, content)
    e = {"code": code, "field": field}
    if gap: e["schema_gap"] = gap
    expected[name] = e

C = dumps(conv())
# bad_json
I("bad_json.empty.json", b"", None)
I("bad_json.whitespace-only.json", " \t\n", None)
I("bad_json.not-json.json", "hello\n", None)
I("bad_json.truncated.json", C[:-20] + "\n", None)
I("bad_json.trailing-comma.json", C[:-1] + ", }\n", None)
I("bad_json.single-quotes.json", C.replace('"order": "o-1"', "'order': 'o-1'") + "\n", None)
I("bad_json.unquoted-key.json", C.replace('"order"', "order") + "\n", None)
I("bad_json.comment.json", C.replace('"amount"', '/* cents */ "amount"') + "\n", None)
I("bad_json.duplicate-key-same-value.json", C[:-1] + ', "amount": 2500}\n', None)
I("bad_json.duplicate-key-id.json", C[:-1] + ', "id": "c-2"}\n', None)
I("bad_json.duplicate-key-in-rules.json",
  dumps(prog()).replace('"currency": "USD"', '"currency": "USD", "currency": "USD"') + "\n", None)
I("bad_json.top-level-array.json", "[" + C + "]\n", None)
I("bad_json.top-level-string.json", '"conversion"\n', None)
I("bad_json.top-level-null.json", "null\n", None)
I("bad_json.top-level-number.json", "42\n", None)
I("bad_json.invalid-utf8-byte.json", C.encode().replace(b'"bob"', b'"b\xffb"') + b"\n", None)
I("bad_json.overlong-utf8.json", dumps(failed(reason="AB")).encode().replace(b"AB", b"A\xc0\xafB") + b"\n", None)
I("bad_json.utf8-encoded-surrogate.json", dumps(failed(reason="AB")).encode().replace(b"AB", b"A\xed\xa0\x80B") + b"\n", None)
I("bad_json.truncated-utf8-sequence.json", dumps(failed(reason="AB")).encode().replace(b"AB", b"A\xe2\x82") + b"\n", None)
I("bad_json.lone-surrogate-escape.json", dumps(failed(reason="AB")).replace("AB", "A\\ud800B") + "\n", None)
I("bad_json.raw-control-char.json", dumps(failed(reason="AB")).replace("AB", "A\tB") + "\n", None)
I("bad_json.invalid-escape.json", dumps(failed(reason="AB")).replace("AB", "A\\x41B") + "\n", None)
I("bad_json.trailing-garbage.json", C + " x\n", None)
I("bad_json.two-objects.json", C + C + "\n", None)
I("bad_json.nan.json", C.replace("2500", "NaN") + "\n", None)
I("bad_json.infinity.json", C.replace("2500", "Infinity") + "\n", None)
I("bad_json.leading-zero.json", C.replace("2500", "02500") + "\n", None)
I("bad_json.plus-sign.json", C.replace("2500", "+2500") + "\n", None)
I("bad_json.bare-fraction.json", C.replace("2500", ".5") + "\n", None)

# unknown_field
I("unknown_field.top-level.json", conv(note="gift"), "note")
I("unknown_field.case-variant-key.json", conv(Amount=2500), "Amount")
I("unknown_field.field-of-other-type.json", signup(amount=100), "amount")
I("unknown_field.reason-on-payout-settled.json", settled(reason="done"), "reason")
I("unknown_field.channel-on-conversion.json", conv(channel="email"), "channel")
I("unknown_field.stored-seq.json", conv(seq=5), "seq")
I("unknown_field.stored-hash.json", conv(hash="0" * 64), "hash")
I("unknown_field.signup-attribution.json", signup(attribution="none"), "attribution")
I("unknown_field.signup-code-assigned.json", signup(code="BOB-2026", code_assigned=True), "code_assigned")
I("unknown_field.signup-referrer.json", signup(referrer="alice"), "referrer")
I("unknown_field.derived-cause.json", conv(cause="s-bob"), "cause")
I("unknown_field.rules-foo.json", prog(rules(foo=1)), "rules.foo")
I("unknown_field.rules-max-levels.json", prog(rules(max_levels=2)), "rules.max_levels")
I("unknown_field.referrer-reward-extra-key.json", prog(rules(referrer_reward={"fixed": 100, "cap": 5})), "rules.referrer_reward.cap")
I("unknown_field.referee-reward-extra-key.json", prog(rules(referee_reward={"percent_bps": 100, "currency": "USD"})), "rules.referee_reward.currency")
I("unknown_field.tier-extra-key.json",
  prog(rules(tiers=[{"min_referrals": 2, "fixed": 100}, {"min_referrals": 5, "fixed": 300, "bonus": 1}])), "rules.tiers[1].bonus")

# missing_field
I("missing_field.id.json", without(conv(), "id"), "id")
I("missing_field.type.json", without(conv(), "type"), "type")
I("missing_field.program.json", without(conv(), "program"), "program")
I("missing_field.time.json", without(conv(), "time"), "time")
I("missing_field.conversion-amount.json", without(conv(), "amount"), "amount")
I("missing_field.conversion-currency.json", without(conv(), "currency"), "currency")
I("missing_field.conversion-order.json", without(conv(), "order"), "order")
I("missing_field.conversion-participant.json", without(conv(), "participant"), "participant")
I("missing_field.signup-participant.json", without(signup(code="BOB-2026"), "participant"), "participant")
I("missing_field.invite-channel.json", without(invite(), "channel"), "channel")
I("missing_field.click-visitor.json", without(click(), "visitor"), "visitor")
I("missing_field.click-code.json", without(click(channel="link"), "code"), "code")
I("missing_field.refund-amount.json", without(refund(), "amount"), "amount")
I("missing_field.payout-payout.json", without(payout(), "payout"), "payout")
I("missing_field.payout-settled-payout.json", without(settled(), "payout"), "payout")
I("missing_field.payout-failed-payout.json", without(failed(reason="x"), "payout"), "payout")
I("missing_field.program-rules.json", without(prog(), "rules"), "rules")
I("missing_field.rules-currency.json", prog(without(rules(), "currency")), "rules.currency")
I("missing_field.rules-referrer-reward.json", prog(without(rules(referee_reward={"fixed": 100}), "referrer_reward")), "rules.referrer_reward")
I("missing_field.tier-min-referrals.json", prog(rules(tiers=[{"fixed": 100}])), "rules.tiers[0].min_referrals")
I("missing_field.second-tier-min-referrals.json",
  prog(rules(tiers=[{"min_referrals": 2, "fixed": 100}, {"percent_bps": 700}])), "rules.tiers[1].min_referrals")

# bad_value: references and ids
I("bad_value.id-empty.json", conv(id=""), "id")
I("bad_value.id-129-chars.json", conv(id="c" * 129), "id")
I("bad_value.id-space.json", conv(id="c 1"), "id")
I("bad_value.id-slash.json", conv(id="s-bob/1"), "id")
I("bad_value.id-non-ascii.json", conv(id="cé-1"), "id")
I("bad_value.id-trailing-newline.json", conv(id="c-1\n"), "id")
I("bad_value.id-number.json", conv(id=17), "id")
I("bad_value.id-null.json", conv(id=None), "id")
I("bad_value.participant-email.json", conv(participant="bob@example.com"), "participant")
I("bad_value.participant-129-chars.json", conv(participant="b" * 129), "participant")
I("bad_value.order-empty.json", conv(order=""), "order")
I("bad_value.visitor-null.json", signup(visitor=None), "visitor")
I("bad_value.visitor-number.json", click(visitor=12345), "visitor")
I("bad_value.invitee-email.json", invite(invitee="carol@example.com"), "invitee")
I("bad_value.payout-ref-space.json", settled(payout="pay 1"), "payout")
I("bad_value.program-uppercase.json", conv(program="Shop"), "program")
I("bad_value.program-65-chars.json", conv(program="s" * 65), "program")
I("bad_value.program-dot.json", conv(program="shop.eu"), "program")
I("bad_value.program-empty.json", conv(program=""), "program")
# codes, channel, currency, reason
I("bad_value.code-2-chars.json", signup(code="ab"), "code")
I("bad_value.code-33-chars.json", signup(code="A" * 33), "code")
I("bad_value.code-non-ascii.json", signup(code="ÄLICE"), "code")
I("bad_value.referrer-code-dot.json", signup(referrer_code="ALICE.2026"), "referrer_code")
I("bad_value.referrer-code-null.json", signup(referrer_code=None), "referrer_code")
I("bad_value.click-code-space.json", click(code="ALICE 2026"), "code")
I("bad_value.channel-unknown.json", invite(channel="fax"), "channel")
I("bad_value.channel-uppercase.json", click(channel="Email"), "channel")
I("bad_value.currency-lowercase.json", conv(currency="usd"), "currency")
I("bad_value.currency-2-letters.json", payout(currency="US"), "currency")
I("bad_value.currency-number.json", conv(currency=840), "currency")
I("bad_value.reason-1025-ascii.json", failed(reason="x" * 1025), "reason")
I("bad_value.reason-1025-bytes-1024-chars.json", failed(reason="x" * 1023 + "é"), "reason",
  gap="reason is limited to 1024 UTF-8 bytes; JSON Schema maxLength counts code points (this is 1024 code points, 1025 bytes)")
I("bad_value.reason-number.json", failed(reason=42), "reason")
# amounts and numbers
I("bad_value.amount-zero.json", conv(amount=0), "amount")
I("bad_value.amount-negative.json", conv(amount=-2500), "amount")
I("bad_value.amount-fraction.json", C.replace("2500", "1.5") + "\n", "amount")
I("bad_value.amount-integral-fraction.json", C.replace("2500", "2500.0") + "\n", "amount")
I("bad_value.amount-exponent.json", C.replace("2500", "1e3") + "\n", "amount")
I("bad_value.amount-exponent-integral.json", C.replace("2500", "25E2") + "\n", "amount")
I("bad_value.amount-2-pow-53.json", conv(amount=MAX + 1), "amount")
I("bad_value.amount-huge.json", C.replace("2500", "1" + "0" * 30) + "\n", "amount")
I("bad_value.amount-string.json", conv(amount="2500"), "amount")
I("bad_value.amount-null.json", conv(amount=None), "amount")
I("bad_value.amount-true.json", conv(amount=True), "amount")
I("bad_value.refund-amount-zero.json", refund(amount=0), "amount")
I("bad_value.payout-amount-zero.json", payout(amount=0), "amount")
I("bad_value.payout-amount-negative.json", payout(amount=-1), "amount")
# type
I("bad_value.type-null.json", conv(type=None), "type")
I("bad_value.type-number.json", conv(type=5), "type")
I("bad_value.type-array.json", conv(type=["conversion"]), "type")
I("bad_value.type-object.json", conv(type={"name": "conversion"}), "type")
# rules
I("bad_value.rules-string.json", prog("USD"), "rules")
I("bad_value.rules-null.json", dict(prog(), rules=None), "rules")
I("bad_value.rules-array.json", prog([{"currency": "USD", "referrer_reward": {"fixed": 1000}}]), "rules")
I("bad_value.rules-currency-lowercase.json", prog(rules(currency="usd")), "rules.currency")
I("bad_value.reward-both.json", prog(rules(referrer_reward={"fixed": 100, "percent_bps": 500})), "rules.referrer_reward")
I("bad_value.reward-neither.json", prog(rules(referrer_reward={})), "rules.referrer_reward")
I("bad_value.referee-reward-both.json", prog(rules(referee_reward={"fixed": 100, "percent_bps": 500})), "rules.referee_reward")
I("bad_value.referee-reward-neither.json", prog(rules(referee_reward={})), "rules.referee_reward")
I("bad_value.reward-number.json", prog(rules(referrer_reward=1000)), "rules.referrer_reward")
I("bad_value.referee-reward-null.json", prog(rules(referee_reward=None)), "rules.referee_reward")
I("bad_value.reward-fixed-null.json", prog(rules(referrer_reward={"fixed": None})), "rules.referrer_reward.fixed")
I("bad_value.percent-bps-10001.json", prog(rules(referrer_reward={"percent_bps": 10001})), "rules.referrer_reward.percent_bps")
I("bad_value.percent-bps-negative.json", prog(rules(referee_reward={"percent_bps": -1})), "rules.referee_reward.percent_bps")
I("bad_value.fixed-negative.json", prog(rules(referrer_reward={"fixed": -100})), "rules.referrer_reward.fixed")
I("bad_value.fixed-fraction.json", dumps(prog(rules(referrer_reward={"fixed": 12345}))).replace("12345", "10.5") + "\n", "rules.referrer_reward.fixed")
I("bad_value.fixed-2-pow-53.json", prog(rules(referrer_reward={"fixed": MAX + 1})), "rules.referrer_reward.fixed")
I("bad_value.tier-both.json", prog(rules(tiers=[{"min_referrals": 2, "fixed": 100, "percent_bps": 300}])), "rules.tiers[0]")
I("bad_value.tier-neither.json", prog(rules(tiers=[{"min_referrals": 2}])), "rules.tiers[0]")
I("bad_value.tier-min-referrals-zero.json", prog(rules(tiers=[{"min_referrals": 0, "fixed": 100}])), "rules.tiers[0].min_referrals")
I("bad_value.tier-min-referrals-string.json", prog(rules(tiers=[{"min_referrals": 1, "fixed": 1}, {"min_referrals": "3", "fixed": 100}])), "rules.tiers[1].min_referrals")
I("bad_value.tier-percent-bps-10001.json", prog(rules(tiers=[{"min_referrals": 2, "percent_bps": 10001}])), "rules.tiers[0].percent_bps")
I("bad_value.tiers-duplicate-min-referrals.json",
  prog(rules(tiers=[{"min_referrals": 2, "percent_bps": 300}, {"min_referrals": 2, "percent_bps": 500}])), "rules.tiers[1].min_referrals",
  gap="tiers need distinct min_referrals; JSON Schema cannot express uniqueness of one property across array items")
I("bad_value.tiers-object.json", prog(rules(tiers={"min_referrals": 2, "fixed": 100})), "rules.tiers")
I("bad_value.tier-number.json", prog(rules(tiers=[2])), "rules.tiers[0]")
I("bad_value.levels-bps-5-entries.json", prog(rules(levels_bps=[500, 400, 300, 200, 100])), "rules.levels_bps")
I("bad_value.levels-bps-item-10001.json", prog(rules(levels_bps=[200, 10001])), "rules.levels_bps[1]")
I("bad_value.levels-bps-item-negative.json", prog(rules(levels_bps=[-200])), "rules.levels_bps[0]")
I("bad_value.levels-bps-not-array.json", prog(rules(levels_bps=200)), "rules.levels_bps")
I("bad_value.window-366.json", prog(rules(attribution_window_days=366)), "rules.attribution_window_days")
I("bad_value.window-negative.json", prog(rules(attribution_window_days=-1)), "rules.attribution_window_days")
I("bad_value.hold-days-3651.json", prog(rules(hold_days=3651)), "rules.hold_days")
I("bad_value.hold-days-null.json", prog(rules(hold_days=None)), "rules.hold_days")
I("bad_value.trigger-unknown.json", prog(rules(trigger="always")), "rules.trigger")
I("bad_value.trigger-uppercase.json", prog(rules(trigger="SIGNUP")), "rules.trigger")
I("bad_value.referrer-cap-negative.json", prog(rules(referrer_cap=-1)), "rules.referrer_cap")
I("bad_value.referrer-cap-exponent.json", dumps(prog(rules(referrer_cap=12345))).replace("12345", "1e5") + "\n", "rules.referrer_cap")
# time
for name, t in [
    ("space-separator", "2026-03-02 12:00:00Z"),
    ("no-offset", "2026-03-02T12:00:00"),
    ("fraction-4-digits", "2026-03-02T12:00:00.1234Z"),
    ("fraction-empty", "2026-03-02T12:00:00.Z"),
    ("feb-30", "2026-02-30T12:00:00Z"),
    ("feb-29-non-leap-year", "2025-02-29T12:00:00Z"),
    ("apr-31", "2026-04-31T12:00:00Z"),
    ("month-13", "2026-13-02T12:00:00Z"),
    ("day-00", "2026-03-00T12:00:00Z"),
    ("hour-24", "2026-03-02T24:00:00Z"),
    ("minute-60", "2026-03-02T12:60:00Z"),
    ("leap-second", "2016-12-31T23:59:60Z"),
    ("offset-no-colon", "2026-03-02T17:30:00+0530"),
    ("offset-hour-only", "2026-03-02T17:00:00+05"),
    ("offset-hour-24", "2026-03-02T12:00:00+24:00"),
    ("date-only", "2026-03-02"),
    ("no-seconds", "2026-03-02T12:00Z"),
    ("utc-word", "2026-03-02T12:00:00UTC"),
    ("year-5-digits", "12026-03-02T12:00:00Z"),
    ("comma-fraction", "2026-03-02T12:00:00,5Z"),
    ("trailing-newline", "2026-03-02T12:00:00Z\n"),
    ("leading-space", " 2026-03-02T12:00:00Z"),
    ("arabic-indic-digits", "٢٠٢٦-03-02T12:00:00Z"),
    ("empty", ""),
]:
    I(f"bad_value.time-{name}.json", conv(time=t), "time")
I("bad_value.time-epoch-number.json", conv(time=1772452800), "time")
I("bad_value.time-null.json", conv(time=None), "time")

# unknown_type / derived_type
I("unknown_type.bogus.json", conv(type="bogus"), "type")
I("unknown_type.capitalized.json", conv(type="Conversion"), "type")
I("unknown_type.empty-string.json", conv(type=""), "type")
I("unknown_type.trailing-space.json", signup(type="signup "), "type")
I("unknown_type.purchase.json", conv(type="purchase"), "type")
I("derived_type.reward.json", {"id": "c-1/1", "type": "reward", "program": "shop", "time": T, "cause": "c-1",
  "participant": "alice", "role": "referrer", "amount": 250, "currency": "USD", "order": "o-1",
  "available_at": "2026-03-16T12:00:00.000Z"}, "type")
I("derived_type.reward-conversion-fields.json", conv(type="reward"), "type")
I("derived_type.reversal.json", {"id": "r-1/1", "type": "reversal", "program": "shop", "time": "2026-03-05T08:00:00Z",
  "cause": "r-1", "participant": "alice", "reward": "c-1/1", "amount": 100, "currency": "USD", "order": "o-1"}, "type")

# future_time / too_large: schema-valid by construction
FT = "the schema cannot see the daemon's clock: future_time is judged against it (more than 300 s ahead)"
I("future_time.year-2999.json", conv(time="2999-01-01T00:00:00Z"), "time", gap=FT)
I("future_time.program-year-2999-offset.json", prog(time="2999-12-31T23:59:59.999+05:30"), "time", gap=FT)
TL = "the schema cannot see byte size: a body over 65,536 bytes is too_large"
I("too_large.padded-65537-bytes.json", pad_to(conv(), 65537), None, gap=TL)
I("too_large.padded-program-100000-bytes.json", pad_to(prog(SPEC_RULES), 100000), None, gap=TL)

def fmt_expected(d):
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in sorted(d.items())]
    return "{\n" + ",\n".join(lines) + "\n}\n"
(EX / "invalid" / "expected.json").write_text(fmt_expected(expected), encoding="utf-8")

# ------------------------------------------------------------- stored events
def assigned_code(program, participant):
    h = hashlib.sha256(f"{program}/{participant}".encode()).digest()
    n = int.from_bytes(h[:5], "big")
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(alphabet[(n >> (35 - 5 * i)) & 31] for i in range(8))

def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

alice_code = assigned_code("shop", "alice")
chain_src = [
    ("program", {"id": "p-1", "type": "program", "program": "shop", "time": "2026-03-01T09:00:00.000Z",
                 "rules": {"currency": "USD", "referrer_reward": {"percent_bps": 1000}, "referee_reward": {"fixed": 500},
                           "levels_bps": [200], "hold_days": 14}}),
    ("signup-assigned-code", {"id": "s-alice", "type": "signup", "program": "shop", "time": "2026-03-01T09:10:00.000Z",
                 "participant": "alice", "visitor": "v-alice", "code": alice_code, "code_assigned": True, "attribution": "none"}),
    ("invite", {"id": "i-1", "type": "invite", "program": "shop", "time": "2026-03-01T09:30:00.000Z",
                 "participant": "alice", "channel": "email", "invitee": "h.bob"}),
    ("click", {"id": "k-1", "type": "click", "program": "shop", "time": "2026-03-01T09:45:00.000Z",
                 "code": alice_code.lower(), "visitor": "v-bob", "channel": "link"}),
    ("signup-click", {"id": "s-bob", "type": "signup", "program": "shop", "time": "2026-03-01T10:00:00.000Z",
                 "participant": "bob", "code": "BOB-2026", "visitor": "v-bob", "attribution": "click", "referrer": "alice"}),
    ("conversion", {"id": "c-1", "type": "conversion", "program": "shop", "time": "2026-03-02T12:00:00.000Z",
                 "participant": "bob", "order": "o-1", "amount": 2500, "currency": "USD"}),
    ("reward-referrer", {"id": "c-1/1", "type": "reward", "program": "shop", "time": "2026-03-02T12:00:00.000Z", "cause": "c-1",
                 "participant": "alice", "role": "referrer", "amount": 250, "currency": "USD", "order": "o-1",
                 "available_at": "2026-03-16T12:00:00.000Z"}),
    ("reward-referee", {"id": "c-1/2", "type": "reward", "program": "shop", "time": "2026-03-02T12:00:00.000Z", "cause": "c-1",
                 "participant": "bob", "role": "referee", "amount": 500, "currency": "USD", "order": "o-1",
                 "available_at": "2026-03-16T12:00:00.000Z"}),
    ("refund", {"id": "r-1", "type": "refund", "program": "shop", "time": "2026-03-05T08:00:00.000Z", "order": "o-1", "amount": 1000}),
    ("reversal", {"id": "r-1/1", "type": "reversal", "program": "shop", "time": "2026-03-05T08:00:00.000Z", "cause": "r-1",
                 "participant": "alice", "reward": "c-1/1", "amount": 100, "currency": "USD", "order": "o-1"}),
    ("reversal-2", {"id": "r-1/2", "type": "reversal", "program": "shop", "time": "2026-03-05T08:00:00.000Z", "cause": "r-1",
                 "participant": "bob", "reward": "c-1/2", "amount": 200, "currency": "USD", "order": "o-1"}),
    ("signup-unknown-code", {"id": "s-carol", "type": "signup", "program": "shop", "time": "2026-03-06T10:00:00.000Z",
                 "participant": "carol", "referrer_code": "NOPE1", "code": assigned_code("shop", "carol"), "code_assigned": True,
                 "attribution": "unknown_code"}),
    ("signup-self-referral", {"id": "s-alice2", "type": "signup", "program": "shop", "time": "2026-03-06T11:00:00.000Z",
                 "participant": "alice-2", "referrer_code": "BOB-2026", "visitor": "v-bob", "code": "ALICE-TWO",
                 "attribution": "self_referral", "self_referrer": "bob"}),
    ("signup-referrer-code", {"id": "s-dave", "type": "signup", "program": "shop", "time": "2026-03-07T10:00:00.000Z",
                 "participant": "dave", "referrer_code": alice_code, "code": assigned_code("shop", "dave"), "code_assigned": True,
                 "attribution": "referrer_code", "referrer": "alice"}),
    ("payout", {"id": "po-1", "type": "payout", "program": "shop", "time": "2026-03-20T08:00:00.000Z",
                 "participant": "alice", "payout": "pay-1", "amount": 150, "currency": "USD"}),
    ("payout_failed", {"id": "pf-1", "type": "payout_failed", "program": "shop", "time": "2026-03-21T08:00:00.000Z",
                 "payout": "pay-1", "reason": "account closed"}),
    ("payout-2", {"id": "po-2", "type": "payout", "program": "shop", "time": "2026-03-22T08:00:00.000Z",
                 "participant": "alice", "payout": "pay-2", "amount": 150, "currency": "USD"}),
    ("payout_settled", {"id": "ps-2", "type": "payout_settled", "program": "shop", "time": "2026-03-23T08:00:00.000Z", "payout": "pay-2"}),
]
prev = "0" * 64
stored = {}
for seq, (name, ev) in enumerate(chain_src, 1):
    ev = dict(ev, seq=seq, recorded_at=f"2026-03-23T09:00:{seq:02d}.{seq * 7:03d}Z", prev=prev)
    ev["hash"] = hashlib.sha256((prev + "\n" + canon(ev)).encode("utf-8")).hexdigest()
    prev = ev["hash"]
    stored[name] = ev
    write("stored/valid", f"{seq:02d}.{name}.json", canon(ev) + "\n")
# a level reward (not part of the chain above)
lvl = {"id": "c-9/3", "type": "reward", "program": "shop", "time": "2026-04-02T12:00:00.000Z", "cause": "c-9",
       "participant": "alice", "role": "level2", "amount": 50, "currency": "USD", "order": "o-9",
       "available_at": "2026-04-16T12:00:00.000Z", "seq": 42, "recorded_at": "2026-04-02T12:00:00.123Z", "prev": "ab" * 32}
lvl["hash"] = hashlib.sha256((lvl["prev"] + "\n" + canon(lvl)).encode()).hexdigest()
write("stored/valid", "reward-level2.json", canon(lvl) + "\n")
sig = {"id": "s-erin", "type": "signup", "program": "shop", "time": "2026-04-01T10:00:00.000Z", "participant": "erin",
       "code": "erin_1", "referrer_code": "BOB-2026", "visitor": "v-erin", "attribution": "referrer_code", "referrer": "bob",
       "seq": 43, "recorded_at": "2026-04-01T10:00:00.001Z", "prev": lvl["hash"]}
sig["hash"] = hashlib.sha256((sig["prev"] + "\n" + canon(sig)).encode()).hexdigest()
write("stored/valid", "signup-referrer-code-custom-code.json", canon(sig) + "\n")
rws = {"id": "s-frank/1", "type": "reward", "program": "gifts", "time": "2026-04-01T10:00:00.000Z", "cause": "s-frank",
       "participant": "bob", "role": "referrer", "amount": 1000, "currency": "EUR", "available_at": "2026-04-01T10:00:00.000Z",
       "seq": 44, "recorded_at": "2026-04-01T10:00:00.002Z", "prev": sig["hash"]}
rws["hash"] = hashlib.sha256((rws["prev"] + "\n" + canon(rws)).encode()).hexdigest()
write("stored/valid", "reward-signup-trigger-no-order.json", canon(rws) + "\n")

def SI(name, ev):
    write("stored/invalid", name + ".json", canon(ev) + "\n")
s = stored
SI("signup-missing-attribution", without(s["signup-click"], "attribution"))
SI("signup-missing-code", without(s["signup-click"], "code"))
SI("signup-attribution-unknown-value", dict(s["signup-click"], attribution="visitor"))
SI("signup-click-without-referrer", without(s["signup-click"], "referrer"))
SI("signup-click-without-visitor", without(s["signup-click"], "visitor"))
SI("signup-none-with-referrer", dict(s["signup-assigned-code"], referrer="bob"))
SI("signup-unknown-code-without-referrer-code", without(s["signup-unknown-code"], "referrer_code"))
SI("signup-self-referral-with-referrer", dict(s["signup-self-referral"], referrer="bob"))
SI("signup-self-referral-without-self-referrer", without(s["signup-self-referral"], "self_referrer"))
SI("signup-code-assigned-false", dict(s["signup-assigned-code"], code_assigned=False))
SI("time-not-normalized", dict(s["conversion"], time="2026-03-02T12:00:00Z"))
SI("time-offset", dict(s["conversion"], time="2026-03-02T17:30:00.000+05:30"))
SI("recorded-at-no-millis", dict(s["conversion"], recorded_at="2026-03-23T09:00:06Z"))
SI("available-at-not-normalized", dict(s["reward-referrer"], available_at="2026-03-16T12:00:00Z"))
SI("hash-uppercase", dict(s["conversion"], hash=s["conversion"]["hash"].upper()))
SI("prev-63-chars", dict(s["conversion"], prev=s["conversion"]["prev"][:63]))
SI("seq-zero", dict(s["conversion"], seq=0))
SI("missing-hash", without(s["conversion"], "hash"))
SI("missing-recorded-at", without(s["conversion"], "recorded_at"))
SI("unknown-field-status", dict(s["conversion"], status="created"))
SI("reward-id-not-derived", dict(s["reward-referrer"], id="c-1"))
SI("reward-id-k-zero", dict(s["reward-referrer"], id="c-1/0"))
SI("reward-role-level1", dict(s["reward-referrer"], role="level1"))
SI("reward-amount-zero", dict(s["reward-referrer"], amount=0))
SI("reward-missing-cause", without(s["reward-referrer"], "cause"))
SI("reward-level-without-order", without(lvl, "order"))
SI("reversal-missing-order", without(s["reversal"], "order"))
SI("reversal-reward-not-derived-id", dict(s["reversal"], reward="c-1"))
SI("type-unknown", dict(s["conversion"], type="purchase"))
SI("conversion-amount-zero", dict(s["conversion"], amount=0))
print(f"wrote {len(expected)} invalid fact examples; alice's assigned code is {alice_code}")
