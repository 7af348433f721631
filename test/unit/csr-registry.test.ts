// CertificateSigningRequest validation and printing, against upstream's messages: the request
// must be a signed PKCS#10 PEM, signer names qualified, usages known, and each write path
// (update, status, approval) may only touch its own fields.
import certificatesigningrequests, { csrCondition } from '../../server/registry/certificatesigningrequests.js';
import { validateCreate, validateUpdate, type CSR } from '../../server/registry/csr-validation.js';
import { generateRequest } from '../support/csr.js';
import { loadCertificateRequestParser } from '../../server/registry/csr-request.js';

// Validation needs the parser the API server loads before a CSR's first write.
beforeAll(() => loadCertificateRequestParser());

const details = (errs: { field: string; detail: string }[]) => errs.map((e) => `${e.field}: ${e.detail}`);

describe('CertificateSigningRequest', () => {
  let request: string;
  const csr = (spec: Partial<CSR['spec']> = {}, status?: CSR['status']): CSR => ({
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'alice' },
    spec: { request, signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...spec },
    ...(status ? { status } : {}),
  });

  beforeAll(async () => {
    request = (await generateRequest('alice', ['dev'])).request;
  });

  test('a well-formed request is valid (ECDSA and RSA)', async () => {
    expect(validateCreate(csr())).toEqual([]);
    const rsa = await generateRequest('bob', [], 'RSA');
    expect(validateCreate(csr({ request: rsa.request }))).toEqual([]);
  });

  test('spec.request must be a CERTIFICATE REQUEST with a valid signature', () => {
    const notPem = Buffer.from('hello').toString('base64');
    expect(details(validateCreate(csr({ request: notPem })))).toEqual([
      `spec.request: Invalid value: "${notPem}": PEM block type must be CERTIFICATE REQUEST`,
    ]);
    const wrongType = Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n').toString('base64');
    expect(details(validateCreate(csr({ request: wrongType })))[0]).toMatch(/PEM block type must be CERTIFICATE REQUEST$/);
    // Flip a byte in the signature (the end of the DER): parses, but does not verify.
    const pem = Buffer.from(request, 'base64').toString();
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----')).join('');
    const der = Buffer.from(body, 'base64');
    der[der.length - 3] ^= 0xff;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    expect(details(validateCreate(csr({ request: Buffer.from(tampered).toString('base64') })))[0]).toMatch(/^spec\.request: Invalid value: .*: x509: ECDSA verification failure$/);
  });

  test('signerName: required, qualified, not the legacy signer', () => {
    expect(details(validateCreate(csr({ signerName: '' })))).toEqual(['spec.signerName: Required value']);
    expect(details(validateCreate(csr({ signerName: 'example' })))).toEqual([
      "spec.signerName: Invalid value: \"example\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
    ]);
    expect(details(validateCreate(csr({ signerName: 'example/signer' })))).toEqual([
      'spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots',
    ]);
    expect(details(validateCreate(csr({ signerName: 'kubernetes.io/legacy-unknown' })))).toEqual([
      'spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version',
    ]);
    expect(validateCreate(csr({ signerName: 'example.com/my-signer' }))).toEqual([]);
  });

  test('usages: required, known, unique; expirationSeconds at least 600', () => {
    expect(details(validateCreate(csr({ usages: [] })))).toEqual(['spec.usages: Required value']);
    expect(details(validateCreate(csr({ usages: ['client auth', 'flying'] })))[0]).toMatch(
      /^spec\.usages\[1\]: Unsupported value: "flying": supported values: "any", "cert sign", "client auth", .*"timestamping"$/);
    expect(details(validateCreate(csr({ usages: ['client auth', 'client auth'] })))).toEqual(['spec.usages[1]: Duplicate value: "client auth"']);
    expect(details(validateCreate(csr({ expirationSeconds: 599 })))).toEqual([
      'spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)',
    ]);
    expect(validateCreate(csr({ expirationSeconds: 600 }))).toEqual([]);
  });

  test('conditions: Approved and Denied exclusive, types unique, Approved only True', () => {
    const old = csr();
    const both = csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] });
    expect(details(validateUpdate(both, old, { allowSettingApprovalConditions: true }))).toEqual([
      'status.conditions[1].type: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive',
    ]);
    const twice = csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Approved', status: 'True' }] });
    expect(details(validateUpdate(twice, old, { allowSettingApprovalConditions: true }))).toEqual(['status.conditions[1].type: Duplicate value: "Approved"']);
    const falseApproval = csr({}, { conditions: [{ type: 'Approved', status: 'False' }] });
    expect(details(validateUpdate(falseApproval, old, { allowSettingApprovalConditions: true }))).toEqual([
      'status.conditions[0].status: Unsupported value: "False": supported values: "True"',
    ]);
  });

  test('each write path touches only its own fields', () => {
    const old = csr();
    const approved = csr({}, { conditions: [{ type: 'Approved', status: 'True' }] });
    // status may not approve; approval may; nothing removes an approval
    expect(details(validateUpdate(approved, old, { allowSettingCertificate: true }))).toEqual([
      'status.conditions: Forbidden: updates may not add a condition of type "Approved"',
    ]);
    expect(validateUpdate(approved, old, { allowSettingApprovalConditions: true })).toEqual([]);
    expect(details(validateUpdate(old, approved, { allowSettingApprovalConditions: true }))).toEqual([
      'status.conditions: Forbidden: updates may not remove a condition of type "Approved"',
    ]);
    // the certificate: only through status, only once, only CERTIFICATE blocks
    const garbage = csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: Buffer.from('nope').toString('base64') });
    expect(details(validateUpdate(garbage, approved, { allowSettingApprovalConditions: true }))).toEqual([
      'status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block',
      'status.certificate: Forbidden: updates may not set certificate content',
    ]);
  });

  test('create clears status and the requester fields; updates keep spec and status', () => {
    const obj = csr({ username: 'mallory', groups: ['system:masters'] }, { conditions: [{ type: 'Approved', status: 'True' }] });
    certificatesigningrequests.strategy.prepareForCreate!(obj);
    expect(obj.status).toEqual({});
    expect(obj.spec.username).toBeUndefined();
    expect(obj.spec.groups).toBeUndefined();
    const stored = csr({ username: 'alice' }, { conditions: [{ type: 'Approved', status: 'True' }] });
    const next = csr({ username: 'mallory', usages: ['server auth'] });
    certificatesigningrequests.strategy.prepareForUpdate!(next, stored);
    expect(next.spec).toEqual(stored.spec);
    expect(next.status).toEqual(stored.status);
  });

  test('the approval path takes only conditions and stamps their times', () => {
    const stored = csr({}, { certificate: 'x' });
    const obj = structuredClone(stored);
    const next = csr({ usages: ['server auth'] }, { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove' }], certificate: 'y' });
    certificatesigningrequests.strategy.prepareForApprovalUpdate!(obj, next, stored);
    expect(obj.spec).toEqual(stored.spec);
    expect(obj.status?.certificate).toBe('x');
    expect(obj.status?.conditions?.[0]).toMatchObject({ type: 'Approved', status: 'True', reason: 'KubectlApprove' });
    expect(obj.status?.conditions?.[0].lastUpdateTime).toMatch(/Z$/);
    expect(obj.status?.conditions?.[0].lastTransitionTime).toMatch(/Z$/);
  });

  test('printer: columns and the CONDITION cell', () => {
    expect(certificatesigningrequests.table.columns.map((c) => c.name)).toEqual(['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition']);
    expect(csrCondition(csr())).toBe('Pending');
    expect(csrCondition(csr({}, { conditions: [{ type: 'Approved', status: 'True' }] }))).toBe('Approved');
    expect(csrCondition(csr({}, { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'x' }))).toBe('Approved,Issued');
    expect(csrCondition(csr({}, { conditions: [{ type: 'Denied', status: 'True' }] }))).toBe('Denied');
    expect(csrCondition(csr({}, { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Failed', status: 'True' }] }))).toBe('Approved,Failed');
    const row = certificatesigningrequests.table.row(csr({ username: 'alice', expirationSeconds: 3600 }));
    expect(row.slice(2)).toEqual(['kubernetes.io/kube-apiserver-client', 'alice', '60m', 'Pending']);
    expect(certificatesigningrequests.table.row(csr())[4]).toBe('<none>');
  });
});
