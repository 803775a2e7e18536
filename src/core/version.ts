/** wgseg's version (package.json's; a test keeps them equal): part of every tuning cache key. */
export const VERSION = '0.1.0';
