// Category illustrations, drawn here (no image files to fetch): simple shapes in the palette.
const common = { viewBox: '0 0 64 64', width: 56, height: 56, 'aria-hidden': true, focusable: false } as const;

export function CategoryArt({ category }: { category: string }) {
  switch (category) {
    case 'STARTER': // a bowl of soup
      return (
        <svg {...common} className="art">
          <path d="M8 30h48a24 18 0 0 1-48 0z" fill="var(--c-accent)" />
          <path d="M24 22c0-4 4-4 4-8M34 22c0-4 4-4 4-8" stroke="var(--c-muted)" strokeWidth="3" fill="none" strokeLinecap="round" />
          <rect x="20" y="48" width="24" height="4" rx="2" fill="var(--c-ink)" />
        </svg>
      );
    case 'MAIN': // a plate with a fork and knife
      return (
        <svg {...common} className="art">
          <circle cx="32" cy="32" r="20" fill="var(--c-surface)" stroke="var(--c-ink)" strokeWidth="3" />
          <circle cx="32" cy="32" r="11" fill="var(--c-accent)" />
          <path d="M6 14v36M58 14v36" stroke="var(--c-ink)" strokeWidth="3" strokeLinecap="round" />
        </svg>
      );
    case 'SIDE': // fries
      return (
        <svg {...common} className="art">
          <path d="M22 12v22M28 8v26M34 10v24M40 12v22" stroke="var(--c-gold)" strokeWidth="5" strokeLinecap="round" />
          <path d="M16 28h32l-4 28H20z" fill="var(--c-accent)" />
        </svg>
      );
    case 'DESSERT': // a cupcake
      return (
        <svg {...common} className="art">
          <path d="M14 30a18 14 0 0 1 36 0z" fill="var(--c-pink)" />
          <circle cx="32" cy="12" r="4" fill="var(--c-accent)" />
          <path d="M16 32h32l-5 22H21z" fill="var(--c-gold)" />
        </svg>
      );
    case 'DRINK': // a glass with a straw
      return (
        <svg {...common} className="art">
          <path d="M18 16h28l-4 40H22z" fill="var(--c-sky)" stroke="var(--c-ink)" strokeWidth="3" strokeLinejoin="round" />
          <path d="M34 22l8-16" stroke="var(--c-accent)" strokeWidth="3" strokeLinecap="round" />
        </svg>
      );
    default: // everything: a cloche
      return (
        <svg {...common} className="art">
          <path d="M10 44a22 22 0 0 1 44 0z" fill="var(--c-accent)" />
          <circle cx="32" cy="18" r="3" fill="var(--c-ink)" />
          <rect x="6" y="46" width="52" height="4" rx="2" fill="var(--c-ink)" />
        </svg>
      );
  }
}
