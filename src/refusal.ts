/**
 * A refusal that must commit. Some refusals record themselves before they answer: a wrong code counts as an
 * attempt, a challenge fails for good, a limit reached writes its audit entry and event, a wrong password counts
 * towards the lockout. Thrown inside the transaction, such a refusal would roll back its own record, and a
 * brute-force guess would cost nothing. So the code that refuses *returns* a `Refusal`, and `Transactions.run`
 * commits and only then throws the error inside it.
 *
 * The types keep the two forms apart: a `Refusal` is not an `Error` and its `AppError` cannot be read, so the only
 * thing to do with one inside a transaction is to return it; `Transactions.run` refuses (at compile time) a
 * transaction that returns an `Error`; and a `throw` of a `Refusal` is found by `test/structure/refusal-throws.test.ts`.
 */
import { appError, type AppError, type AppErrorInit, type ErrorCode } from './errors.js';

export class Refusal {
  readonly #error: AppError;

  private constructor(error: AppError) {
    this.#error = error;
  }

  /** A refusal answered with `code`, as `appError` builds it. */
  static of(code: ErrorCode, init: AppErrorInit = {}): Refusal {
    return new Refusal(appError(code, init));
  }

  /** The same refusal built elsewhere (a shared message such as `countryRefusal`). */
  static from(error: AppError): Refusal {
    return new Refusal(error);
  }

  /**
   * `outcome` itself, or the refusal's error thrown. Only for the transaction runner, once the transaction that
   * returned `outcome` has committed.
   */
  static settle<T>(outcome: T | Refusal): T {
    if (outcome instanceof Refusal) throw outcome.#error;
    return outcome;
  }
}
