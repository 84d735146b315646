/**
 * A `Refusal` is returned from its transaction, never thrown: thrown, it rolls back what it records (src/refusal.ts).
 * The compiler cannot type a `throw`, so this reads `src/` with the type checker: no `throw` of a value whose type
 * holds a `Refusal`, and `Refusal.settle` (which throws the error inside) only in the transaction runner.
 */
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const RUNNER = 'src/store/group-commit.ts';

function srcProgram(): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.json could not be read');
  return ts.createProgram({
    rootNames: config.fileNames.filter((file) => relative(ROOT, file).startsWith('src/')),
    options: { ...config.options, noEmit: true },
  });
}

function holdsRefusal(type: ts.Type): boolean {
  const parts = type.isUnion() ? type.types : [type];
  return parts.some((part) => part.getSymbol()?.getName() === 'Refusal');
}

function misuses(program: ts.Program): string[] {
  const checker = program.getTypeChecker();
  const found: string[] = [];
  for (const file of program.getSourceFiles()) {
    const path = relative(ROOT, file.fileName);
    if (!path.startsWith('src/')) continue;
    const where = (node: ts.Node) => `${path}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node): void => {
      if (ts.isThrowStatement(node) && node.expression && holdsRefusal(checker.getTypeAtLocation(node.expression))) {
        found.push(`${where(node)}: throws a Refusal (return it from the transaction)`);
      }
      if (
        ts.isPropertyAccessExpression(node) &&
        node.name.text === 'settle' &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'Refusal' &&
        path !== RUNNER
      ) {
        found.push(`${where(node)}: Refusal.settle outside the transaction runner`);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return found;
}

// Type-checking the whole of src takes tens of seconds on a loaded 2-core machine.
describe('refusals in src/', { timeout: 180_000 }, () => {
  it('are never thrown, and settled only by the transaction runner', () => {
    const program = srcProgram();
    expect(program.getSourceFile(join(ROOT, 'src/refusal.ts')), 'the program reads src/').toBeDefined();
    expect(misuses(program)).toEqual([]);
  });

  it('the check finds a thrown refusal', () => {
    const source = `
      import { Refusal } from './refusal.js';
      export function wrong(r: Refusal | string) { if (typeof r !== 'string') throw r; }
      export function alsoWrong() { Refusal.settle(Refusal.of('form_code_incorrect')); }`;
    const probe = join(ROOT, 'src/__probe__.ts');
    const options: ts.CompilerOptions = {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      noEmit: true,
    };
    const host = ts.createCompilerHost(options);
    const { fileExists, getSourceFile } = host;
    host.fileExists = (name) => name === probe || fileExists(name);
    host.getSourceFile = (name, version, ...rest) =>
      name === probe ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
    const program = ts.createProgram({ rootNames: [probe], options, host });
    expect(misuses(program)).toEqual([
      'src/__probe__.ts:3: throws a Refusal (return it from the transaction)',
      'src/__probe__.ts:4: Refusal.settle outside the transaction runner',
    ]);
  });
});
