export declare function loadNodes(files: string[]): object[]
export declare function tile(base: object[], count: number): object[]
export declare function writeFlows(path: string, nodes: object[], layout?: (nodes: object[]) => string): void
