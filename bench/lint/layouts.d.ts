export declare const LAYOUTS: Record<'pretty' | 'minified' | 'two-spaces' | 'tabs' | 'crlf' | 'v2-minified', (nodes: object[]) => string>
