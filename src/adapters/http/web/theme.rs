//! A circuit's colours, made readable: both are used behind or as text against white, so a
//! colour whose contrast with white falls below WCAG's 4.5:1 is darkened until it reaches it,
//! keeping its hue.

/// WCAG 2 AA contrast for normal text.
const MIN_CONTRAST: f64 = 4.5;

/// The pages' own colours, used when a circuit sets none.
pub const DEFAULT_PRIMARY: &str = "#1d5e3a";
pub const DEFAULT_SECONDARY: &str = "#7a4b12";

/// `color` (`#rgb` or `#rrggbb`, as the settings accept), or `fallback`, as a `#rrggbb` with at
/// least 4.5:1 contrast against white.
pub fn readable_on_white(color: Option<&str>, fallback: &str) -> String {
    let rgb = color.and_then(parse).or_else(|| parse(fallback)).unwrap_or([0, 0, 0]);
    let mut scaled = rgb.map(f64::from);
    // Darkening by 5 % steps converges within ~90 steps (black has 21:1).
    for _ in 0..100 {
        if contrast_with_white(scaled) >= MIN_CONTRAST {
            break;
        }
        scaled = scaled.map(|c| c * 0.95);
    }
    let [r, g, b] = scaled.map(|c| c.round().clamp(0.0, 255.0) as u8);
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn parse(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    let digit = |i: usize, width: usize| u8::from_str_radix(hex.get(i..i + width)?, 16).ok();
    match hex.len() {
        3 => Some([digit(0, 1)? * 17, digit(1, 1)? * 17, digit(2, 1)? * 17]),
        6 => Some([digit(0, 2)?, digit(2, 2)?, digit(4, 2)?]),
        _ => None,
    }
}

/// WCAG 2's relative luminance and contrast ratio.
fn contrast_with_white(rgb: [f64; 3]) -> f64 {
    let linear = |c: f64| {
        let c = c / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let [r, g, b] = rgb.map(linear);
    let luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    1.05 / (luminance + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dark_colours_are_kept_and_light_ones_darkened_to_aa() {
        assert_eq!(readable_on_white(Some("#1d5e3a"), DEFAULT_PRIMARY), "#1d5e3a");
        assert_eq!(readable_on_white(Some("#000"), DEFAULT_PRIMARY), "#000000");
        let yellow = readable_on_white(Some("#ffff00"), DEFAULT_PRIMARY);
        let rgb = parse(&yellow).unwrap().map(f64::from);
        assert!(contrast_with_white(rgb) >= MIN_CONTRAST, "{yellow}");
        assert!(rgb[0] == rgb[1] && rgb[2] == 0.0, "the hue is kept: {yellow}");
        assert_eq!(readable_on_white(Some("#fff"), "#fff"), "#767676");
        // Known WCAG ratios: white on black is 21:1, #767676 on white is 4.54:1.
        assert!((contrast_with_white([0.0; 3]) - 21.0).abs() < 1e-9);
        assert!((contrast_with_white([118.0; 3]) - 4.54).abs() < 0.01);
    }

    #[test]
    fn missing_or_malformed_colours_fall_back() {
        assert_eq!(readable_on_white(None, DEFAULT_SECONDARY), DEFAULT_SECONDARY);
        assert_eq!(readable_on_white(Some("red"), DEFAULT_PRIMARY), DEFAULT_PRIMARY);
        assert_eq!(readable_on_white(Some("#12345"), DEFAULT_PRIMARY), DEFAULT_PRIMARY);
    }
}
