// @ts-check
/** The package's version (also in package.json; a test keeps them equal). */
export const VERSION = '1.1.0';
