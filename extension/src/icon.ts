import { LabIcon } from '@jupyterlab/ui-components';

// A small lake: three stacked tiers with a wave on top.
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M2 6.5c2-1.6 4-1.6 6 0s4 1.6 6 0 4-1.6 6 0 2 .9 2 .9v1.8s-1-.4-2-1.2c-2-1.6-4-1.6-6 0s-4 1.6-6 0-4-1.6-6 0V6.5z"/>
    <rect x="3" y="11" width="18" height="3" rx="1"/>
    <rect x="4" y="15.5" width="16" height="3" rx="1"/>
    <rect x="5" y="20" width="14" height="2.5" rx="1"/>
  </g>
</svg>`;

export const lakeletIcon = new LabIcon({ name: 'lakelet:icon', svgstr: svg });
