// comlink ships ESM builds without .d.mts files: point its ESM entry points at its own types.
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink';
}
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import nodeEndpoint from 'comlink/dist/umd/node-adapter';
  export default nodeEndpoint;
}
