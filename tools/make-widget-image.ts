// Writes demos/widget/person.jpg (test/helpers/widget-image.ts): npx vite-node tools/make-widget-image.ts
import { writeFileSync } from 'node:fs';
import { WIDGET_IMAGE, widgetImage } from '../test/helpers/widget-image';

writeFileSync(WIDGET_IMAGE.path, widgetImage().jpeg);
console.log(`wrote ${WIDGET_IMAGE.path}`);
