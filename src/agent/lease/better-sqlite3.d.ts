// better-sqlite3 ships no types and @types/better-sqlite3 is not a dependency: the small part we use.
declare module 'better-sqlite3' {
  namespace Database {
    interface Statement {
      get(...params: unknown[]): unknown
      run(...params: unknown[]): {changes: number; lastInsertRowid: number | bigint}
      all(...params: unknown[]): unknown[]
    }
    interface Transaction<F extends (...args: never[]) => unknown> {
      (...args: Parameters<F>): ReturnType<F>
      immediate(...args: Parameters<F>): ReturnType<F>
      deferred(...args: Parameters<F>): ReturnType<F>
      exclusive(...args: Parameters<F>): ReturnType<F>
    }
    interface Database {
      readonly open: boolean
      pragma(source: string, options?: {simple?: boolean}): unknown
      exec(source: string): this
      prepare(source: string): Statement
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>
      close(): this
    }
  }
  interface DatabaseConstructor {
    new (filename: string, options?: {timeout?: number; readonly?: boolean; fileMustExist?: boolean}): Database.Database
  }
  const Database: DatabaseConstructor
  export default Database
}
