#!/usr/bin/env python3
"""Writes keyhold-rules.test.yml: the promtool unit tests of ../keyhold-rules.yml (every alert firing and silent).
The cases (input series, evaluation times, expected labels) are written here; the expected annotations are the
rules' own annotation templates rendered with each case's labels, so an annotation edit only needs a re-run:
    python3 ops/prometheus/tests/generate-tests.py && promtool test rules ops/prometheus/tests/keyhold-rules.test.yml
Needs PyYAML (Debian: python3-yaml)."""
import os, re, yaml
HERE = os.path.dirname(os.path.abspath(__file__))
rules = yaml.safe_load(open(os.path.join(HERE, '..', 'keyhold-rules.yml')))
alerts = {r['alert']: r for g in rules['groups'] for r in g['rules'] if 'alert' in r}

def render(t, labels):
    return re.sub(r'\{\{ \$labels\.(\w+) \}\}', lambda m: labels[m.group(1)], t)

def exp(alert, *label_sets):
    out = []
    for ls in label_sets:
        r = alerts[alert]
        lab = dict(ls); lab['severity'] = r['labels']['severity']
        out.append({'exp_labels': lab, 'exp_annotations': {k: render(v, lab) for k, v in r['annotations'].items()}})
    return out

def case(alert, series, fire_at, fire_labels, quiet_at, note):
    return {'name': f'{alert}: {note}', 'interval': '1m',
            'input_series': [{'series': s, 'values': v} for s, v in series],
            'alert_rule_test': [
                {'eval_time': quiet_at, 'alertname': alert, 'exp_alerts': []},
                {'eval_time': fire_at, 'alertname': alert, 'exp_alerts': exp(alert, *fire_labels)}]}

tests = [
 case('KeyholdRotationOverdue',
      [('keyhold_issuer_rotation_due_seconds{issuer="late",instance="i1"}', '100-60x90'),
       ('keyhold_issuer_rotation_due_seconds{issuer="late",instance="i2"}', '100-60x90'),
       ('keyhold_issuer_rotation_due_seconds{issuer="fine",instance="i1"}', '86400-60x90')],
      '40m', [{'issuer': 'late'}], '20m', 'fires for the issuer past its rotation due after 30m, not for one due tomorrow'),
 case('KeyholdActiveKeyExpiringNoSuccessor',
      [('keyhold_issuer_active_key_expiry_seconds{issuer="bare"}', '500000-60x30'),
       ('keyhold_issuer_successor_approved{issuer="bare"}', '0x30'),
       ('keyhold_issuer_active_key_expiry_seconds{issuer="covered"}', '500000-60x30'),
       ('keyhold_issuer_successor_approved{issuer="covered"}', '1x30'),
       ('keyhold_issuer_active_key_expiry_seconds{issuer="early"}', '1000000-60x30'),
       ('keyhold_issuer_successor_approved{issuer="early"}', '0x30'),
       ('keyhold_issuer_active_key_expiry_seconds{issuer="nokey"}', ' '.join(['NaN']*31)),
       ('keyhold_issuer_successor_approved{issuer="nokey"}', '0x30')],
      '15m', [{'issuer': 'bare'}], '5m', 'fires within 7 days of notAfter without an approved successor only'),
 case('KeyholdActiveKeyExpiringNoSuccessorCritical',
      [('keyhold_issuer_active_key_expiry_seconds{issuer="bare"}', '50000-60x30'),
       ('keyhold_issuer_successor_approved{issuer="bare"}', '0x30'),
       ('keyhold_issuer_active_key_expiry_seconds{issuer="covered"}', '50000-60x30'),
       ('keyhold_issuer_successor_approved{issuer="covered"}', '1x30'),
       ('keyhold_issuer_active_key_expiry_seconds{issuer="week"}', '500000-60x30'),
       ('keyhold_issuer_successor_approved{issuer="week"}', '0x30')],
      '10m', [{'issuer': 'bare'}], '3m', 'fires within a day of notAfter without an approved successor only'),
 case('KeyholdActivationRequestExpiringUnapproved',
      [('keyhold_issuer_activation_request_expiry_seconds{issuer="soon"}', '10000-60x30'),
       ('keyhold_issuer_activation_request_expiry_seconds{issuer="later"}', '86400-60x30'),
       ('keyhold_issuer_activation_request_expiry_seconds{issuer="none"}', ' '.join(['NaN']*31))],
      '10m', [{'issuer': 'soon'}], '3m', 'fires for a request expiring within 6 hours, not for later or none'),
 case('KeyholdRelayLagging',
      [('keyhold_relay_lag_seconds{topic="keyhold.events",instance="i1"}', '0+10x30'),
       ('keyhold_relay_lag_seconds{topic="other",instance="i1"}', '5x30')],
      '15m', [{'topic': 'keyhold.events'}], '8m', 'fires after 5m over 60 s of lag, not for a small steady lag'),
 case('KeyholdHsmPartitionDown',
      [('keyhold_hsm_partition_up{partition="p1",instance="i1"}', '1x10'),
       ('keyhold_hsm_partition_up{partition="p1",instance="i2"}', '1 1 1 0 0 0 0 0 0 0 0'),
       ('keyhold_hsm_partition_up{partition="p2",instance="i1"}', '1x10'),
       ('keyhold_hsm_partition_up{partition="p2",instance="i2"}', '1x10')],
      '8m', [{'partition': 'p1'}], '4m', 'fires when one instance cannot use a partition for 2m'),
 case('KeyholdHsmErrors',
      [('keyhold_hsm_errors_total{partition="p1",operation="sign",kind="unavailable"}', '0+6x30'),
       ('keyhold_hsm_errors_total{partition="p1",operation="sign",kind="missing"}', '0+60x30'),
       ('keyhold_hsm_errors_total{partition="p2",operation="sign",kind="unavailable"}', '0+1x30')],
      '20m', [{'partition': 'p1', 'kind': 'unavailable'}], '5m', 'fires at 0.1 errors/s for 10m, not at a trickle nor for missing objects'),
 case('KeyholdCompromiseSuspected',
      [('keyhold_evidence_compromise_suspected_total{issuer="hit"}', '0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'),
       ('keyhold_evidence_compromise_suspected_total{issuer="first"}', '_ _ _ _ 1x26'),
       ('keyhold_evidence_compromise_suspected_total{issuer="quiet"}', '0x30')],
      '5m', [{'issuer': 'first'}, {'issuer': 'hit'}], '30m',
      'fires at once on a new suspicion (also when the series first appears), resolves 15m after the last'),
 case('KeyholdCanaryFailing',
      [('keyhold_canary_passing{instance="i1"}', '1x10'),
       ('keyhold_canary_passing{instance="i2"}', '1 1 1 0 0 0 0 0 0 0 0')],
      '6m', [{}], '2m', 'fires when one instance\'s canaries fail'),
 case('KeyholdCanaryNotRunning',
      [('keyhold_canary_last_run_age_seconds{instance="i1"}', '0+60x60')],
      '40m', [{}], '20m', 'fires after 30m without a run'),
 case('KeyholdAuditCheckpointStale',
      [('keyhold_audit_uncheckpointed_seconds{instance="i1"}', '0+60x60'),
       ('keyhold_audit_checkpoint_age_seconds{instance="i1"}', '0+60x60')],
      '40m', [{}], '20m', 'fires when records stay uncovered for over 30m'),
 case('KeyholdLedgerCheckpointStale',
      [('keyhold_ledger_uncheckpointed_seconds{instance="i1"}', '0+60x30')],
      '20m', [{}], '8m', 'fires when batches stay uncovered for over 10m'),
 case('KeyholdIntegrityViolation',
      [('keyhold_integrity_violations_total{issuer="bad"}', '0 0 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2'),
       ('keyhold_integrity_violations_total{issuer="fresh"}', '_ _ 1x28'),
       ('keyhold_integrity_violations_total{issuer="good"}', '0x30')],
      '3m', [{'issuer': 'bad'}, {'issuer': 'fresh'}], '30m',
      'fires at once on a violation (also when the series first appears), resolves 15m after the last'),
 case('KeyholdOperationsViewStale',
      [('keyhold_ops_view_age_seconds{instance="i1"}', '0+60x20')],
      '15m', [{}], '5m', 'fires when the view is not refreshed for over 5m'),
 case('KeyholdSchedulerFailing',
      [('keyhold_scheduler_failing_issuers{instance="i1"}', '0 0 2x30')],
      '25m', [{}], '10m', 'fires after 15m of failing issuers'),
]
# An audit chain whose head stays covered never fires, however old its last checkpoint (an idle chain).
tests.append({'name': 'KeyholdAuditCheckpointStale: an idle, covered chain does not fire', 'interval': '1m',
  'input_series': [{'series': 'keyhold_audit_uncheckpointed_seconds{instance="i1"}', 'values': '0x60'},
                   {'series': 'keyhold_audit_checkpoint_age_seconds{instance="i1"}', 'values': '0+60x60'}],
  'alert_rule_test': [{'eval_time': '60m', 'alertname': 'KeyholdAuditCheckpointStale', 'exp_alerts': []}]})
tests.append({'name': 'recording: issuers at risk counts expiring-without-successor and keyless unsuspended issuers',
  'interval': '1m',
  'input_series': [
    {'series': 'keyhold_issuer_active_key_expiry_seconds{issuer="a"}', 'values': '500000x5'},
    {'series': 'keyhold_issuer_successor_approved{issuer="a"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_active_key{issuer="a"}', 'values': '1x5'},
    {'series': 'keyhold_issuer_suspended{issuer="a"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_active_key_expiry_seconds{issuer="b"}', 'values': '500000x5'},
    {'series': 'keyhold_issuer_successor_approved{issuer="b"}', 'values': '1x5'},
    {'series': 'keyhold_issuer_active_key{issuer="b"}', 'values': '1x5'},
    {'series': 'keyhold_issuer_suspended{issuer="b"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_active_key_expiry_seconds{issuer="c"}', 'values': ' '.join(['NaN']*6)},
    {'series': 'keyhold_issuer_successor_approved{issuer="c"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_active_key{issuer="c"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_suspended{issuer="c"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_active_key_expiry_seconds{issuer="d"}', 'values': ' '.join(['NaN']*6)},
    {'series': 'keyhold_issuer_successor_approved{issuer="d"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_active_key{issuer="d"}', 'values': '0x5'},
    {'series': 'keyhold_issuer_suspended{issuer="d"}', 'values': '1x5'}],
  'promql_expr_test': [{'expr': 'keyhold:issuers_at_risk:count', 'eval_time': '2m', 'exp_samples': [{'labels': 'keyhold:issuers_at_risk:count', 'value': 2}]}]})
tests.append({'name': 'recording: no issuers at risk is 0, not absent', 'interval': '1m',
  'input_series': [{'series': 'keyhold_issuer_active_key{issuer="b"}', 'values': '1x5'},
                   {'series': 'keyhold_issuer_active_key_expiry_seconds{issuer="b"}', 'values': '5000000x5'},
                   {'series': 'keyhold_issuer_successor_approved{issuer="b"}', 'values': '0x5'},
                   {'series': 'keyhold_issuer_suspended{issuer="b"}', 'values': '0x5'}],
  'promql_expr_test': [{'expr': 'keyhold:issuers_at_risk:count', 'eval_time': '2m', 'exp_samples': [{'labels': 'keyhold:issuers_at_risk:count', 'value': 0}]}]})

missing = set(alerts) - {t['name'].split(':')[0] for t in tests}
assert not missing, missing
doc = {'rule_files': ['../keyhold-rules.yml'], 'evaluation_interval': '1m', 'tests': tests}
hdr = ("# promtool unit tests for ops/prometheus/keyhold-rules.yml: every alert firing and not firing.\n"
       "# Run: promtool test rules ops/prometheus/tests/keyhold-rules.test.yml (OpsRulesTest runs it in the build).\n"
       "# Generated by generate-tests.py (edit the cases there; exp_annotations are the rules' rendered annotations).\n")
open(os.path.join(HERE, 'keyhold-rules.test.yml'), 'w').write(hdr + yaml.safe_dump(doc, sort_keys=False, width=120, allow_unicode=True))
