#!/usr/bin/env bash
# ref_massive_fixture.sh: writes tests/fixtures/formats/massive/amazon-massive-dataset-1.0.tar.gz, a small
# tarball in the layout of MASSIVE 1.0 (1.0/data/LOCALE.jsonl with a "partition" field per row, 1.0/LICENSE),
# with GNU tar and gzip (the reference archivers), so test_formats reads a tarball no cmteb code wrote.
set -euo pipefail
out="$(cd "$(dirname "$0")/../fixtures/formats" && pwd)/massive"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/1.0/data" "$out"
cat > "$tmp/1.0/data/en-US.jsonl" <<'JSONL'
{"id": "0", "locale": "en-US", "partition": "test", "scenario": "alarm", "intent": "alarm_set", "utt": "wake me up at nine am on friday", "annot_utt": "x", "worker_id": "1"}
{"id": "1", "locale": "en-US", "partition": "train", "scenario": "audio", "intent": "audio_volume_mute", "utt": "olly quiet", "annot_utt": "x", "worker_id": "1"}
{"id": "2", "locale": "en-US", "partition": "dev", "scenario": "iot", "intent": "iot_hue_lightoff", "utt": "turn the lights off", "annot_utt": "x", "worker_id": "2"}
{"id": "3", "locale": "en-US", "partition": "train", "scenario": "alarm", "intent": "alarm_query", "utt": "what alarms do i have \"set\"", "annot_utt": "x", "worker_id": "2"}
{"id": "4", "locale": "en-US", "partition": "test", "scenario": "iot", "intent": "iot_cleaning", "utt": "vacuum the house — now", "annot_utt": "x", "worker_id": "3"}

{"id": "5", "locale": "en-US", "partition": "train", "scenario": "iot", "intent": "iot_cleaning", "utt": "start the robot", "annot_utt": "x", "worker_id": "3"}
JSONL
cat > "$tmp/1.0/data/de-DE.jsonl" <<'JSONL'
{"id": "0", "locale": "de-DE", "partition": "test", "scenario": "alarm", "intent": "alarm_set", "utt": "weck mich um neun", "annot_utt": "x", "worker_id": "1"}
JSONL
echo "fixture license text" > "$tmp/1.0/LICENSE"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp" -cf - 1.0 | gzip -9n > "$out/amazon-massive-dataset-1.0.tar.gz"
printf '# the repository'"'"'s loading script names the label kind (its content is not read)\n' > "$out/amazon_massive_intent.py"
echo "wrote $out"
