/** A file imported with ?raw is its text (vite's own suffix; scripts/build.mjs loads it the same way). */
declare module '*?raw' {
  const text: string;
  export default text;
}
