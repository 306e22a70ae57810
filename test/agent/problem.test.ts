import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRESETS } from '../../src/agent/presets.js';
import { applySets, validateProblem } from '../../src/agent/problem.js';
import { InputError } from '../../src/util/errors.js';

test('the graphene preset is valid and carries Extended Data Table 1 (but εν = ε, see the README)', () => {
  const g = validateProblem(structuredClone(PRESETS.graphene));
  assert.deepEqual(g.grid.shape, [42, 37]);
  // ε and ν from the table; all exploration among the best ν (εν = ε) as on the graphene edge
  assert.deepEqual([g.policy.epsilon, g.policy.epsilonNu, g.policy.nu], [0.1, 0.1, 0.02]);
  const small = validateProblem(structuredClone(PRESETS['graphene-small']));
  assert.deepEqual([small.policy.epsilon, small.policy.epsilonNu, small.policy.nu], [0.1, 0.05, 0.02]);
  assert.deepEqual([g.training.batchSize, g.training.deltaE, g.c1, g.training.learningRate], [64, 2.0, 0.5, 1e-3]);
  assert.deepEqual(g.network.filters, [10, 10, 10]);
  assert.equal(g.stoichiometry.C, 23);
});

test('errors name the field: unknown keys, wrong types, bad ranges', () => {
  const bad = (patch: string[], re: RegExp) => {
    assert.throws(
      () => validateProblem(applySets(structuredClone(PRESETS.graphene), patch), 'my.yaml'),
      (e: unknown) => e instanceof InputError && re.test(e.message) && !e.message.includes('\n'),
    );
  };
  bad(['policy.epsilonn=0.1'], /my\.yaml: field policy\.epsilonn: unknown key/);
  bad(['policy.epsilon="a lot"'], /field policy\.epsilon: must be a number/);
  bad(['policy.epsilon=1.5'], /policy\.epsilon: must be ≤ 1/);
  bad(['policy.epsilonNu=0.5'], /epsilonNu .* must not exceed epsilon/);
  bad(['grid.shape=[42]'], /grid\.shape: must be a list of 2 entries/);
  bad(['stoichiometry={"C":0}'], /stoichiometry: places no atoms/);
  bad(['forbidden=[[50,1]]'], /forbidden\[0\]: \[50, 1\] lies outside/);
  bad(['training.lossForm="l1"'], /training\.lossForm: must be one of eq2, sum-of-squares, cross-entropy/);
});
