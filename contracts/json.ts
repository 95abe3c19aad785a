/** JSON values as workflow payloads carry them (the same shape as the registry's `Json`). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
