// Command examples writes the sample documents of examples/docs: three small PDFs drawn with
// ingest/pdfwrite (a quarterly report with a revenue table and a bar chart, a bicycle repair guide, a train
// timetable) and two images rendered from PDF pages with ingest's PDFium renderer (a drawing of a cat as PNG,
// a shop receipt as a grey "scan" JPEG). Everything is deterministic: running it again gives the same files.
//
//	go run ./scripts/examples [-out examples/docs]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/colsmol/colsmol/ingest"
	"github.com/colsmol/colsmol/ingest/pdfwrite"
	"github.com/colsmol/colsmol/internal/vlm"
)

func main() {
	out := flag.String("out", "examples/docs", "output folder")
	flag.Parse()
	if err := generate(*out, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// generate writes the sample documents into folder out and lists them on w.
func generate(out string, w io.Writer) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	write := func(name string, data []byte) error {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(w, "%-28s %7d bytes\n", name, len(data))
		return nil
	}
	for _, f := range []struct {
		name string
		doc  *pdfwrite.Doc
	}{{"quarterly-report.pdf", report()}, {"bicycle-repair-guide.pdf", guide()}, {"train-timetable.pdf", timetable()}} {
		if err := write(f.name, f.doc.Bytes(pdfwrite.Options{})); err != nil {
			return err
		}
	}

	r, err := ingest.NewRenderer("")
	if err != nil {
		return err
	}
	defer r.Close()
	render := func(d *pdfwrite.Doc, edge int) (*vlm.RGB, error) {
		var img *vlm.RGB
		err := r.PagesSized(context.Background(), "", d.Bytes(pdfwrite.Options{}), ingest.FitLongestEdge(edge), func(i, n int, im image.Image) error {
			img = im.(*vlm.RGB)
			return nil
		})
		return img, err
	}
	catImg, err := render(cat(), 640)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, toNRGBA(catImg)); err != nil {
		return err
	}
	if err := write("cat-drawing.png", buf.Bytes()); err != nil {
		return err
	}
	receiptImg, err := render(receipt(), 900)
	if err != nil {
		return err
	}
	buf.Reset()
	if err := jpeg.Encode(&buf, scan(receiptImg), &jpeg.Options{Quality: 70}); err != nil {
		return err
	}
	return write("receipt-scan.jpg", buf.Bytes())
}

func toNRGBA(src *vlm.RGB) *image.NRGBA {
	dst := image.NewNRGBA(image.Rect(0, 0, src.W, src.H))
	for i, j := 0, 0; i < len(src.Pix); i, j = i+3, j+4 {
		dst.Pix[j], dst.Pix[j+1], dst.Pix[j+2], dst.Pix[j+3] = src.Pix[i], src.Pix[i+1], src.Pix[i+2], 255
	}
	return dst
}

// scan turns a rendered page into a slightly dim, noisy greyscale image, like a cheap scanner's output.
func scan(src *vlm.RGB) *image.Gray {
	rng := rand.New(rand.NewPCG(7, 11))
	dst := image.NewGray(image.Rect(0, 0, src.W, src.H))
	for i := range dst.Pix {
		r, g, b := int(src.Pix[3*i]), int(src.Pix[3*i+1]), int(src.Pix[3*i+2])
		v := (299*r+587*g+114*b)/1000*88/100 + 18 + rng.IntN(13) - 6
		dst.Pix[i] = uint8(max(0, min(255, v)))
	}
	return dst
}

func report() *pdfwrite.Doc {
	d := pdfwrite.New()
	d.Title = "Northwind Bikes quarterly report 2026"
	p := d.AddPage(595, 842)
	p.Fill(0.1, 0.2, 0.45)
	p.Rect(0, 772, 595, 70, true)
	p.Fill(1, 1, 1)
	p.Text(50, 798, 24, true, "Northwind Bikes - Quarterly Report 2026")
	p.Fill(0, 0, 0)
	p.Text(50, 730, 12, false, "Revenue grew in every quarter of 2026, led by electric city bikes.")
	p.Text(50, 712, 12, false, "The table below lists revenue, costs and profit per quarter (EUR thousands).")
	p.Text(50, 660, 16, true, "Table 1: Quarterly revenue")
	rows := [][]string{
		{"Quarter", "Revenue", "Costs", "Profit", "Growth"},
		{"Q1 2026", "1,240", "1,010", "230", "+4.1%"},
		{"Q2 2026", "1,385", "1,090", "295", "+11.7%"},
		{"Q3 2026", "1,512", "1,160", "352", "+9.2%"},
		{"Q4 2026", "1,730", "1,255", "475", "+14.4%"},
		{"Total", "5,867", "4,515", "1,352", ""},
	}
	x0, y0, cw, rh := 50.0, 630.0, 99.0, 28.0
	p.Fill(0.85, 0.89, 0.95)
	p.Rect(x0, y0-rh, cw*5, rh, true)
	p.Stroke(0.3, 0.3, 0.3, 0.8)
	for i, row := range rows {
		y := y0 - rh*float64(i+1)
		p.Fill(0, 0, 0)
		for j, cell := range row {
			p.Text(x0+cw*float64(j)+8, y+9, 12, i == 0 || i == len(rows)-1, cell)
		}
		p.Line(x0, y, x0+cw*5, y)
	}
	p.Line(x0, y0, x0+cw*5, y0)
	for j := 0; j <= 5; j++ {
		p.Line(x0+cw*float64(j), y0, x0+cw*float64(j), y0-rh*float64(len(rows)))
	}
	p.Text(50, 420, 12, false, "Electric city bikes made 46% of revenue; cargo bikes 21%; road bikes 18%.")
	p.Text(50, 402, 12, false, "Costs rose more slowly than revenue, so the profit margin reached 27% in Q4.")
	p.Text(50, 60, 9, false, "Northwind Bikes B.V. - internal report - page 1 of 2")

	p2 := d.AddPage(595, 842)
	p2.Fill(0, 0, 0)
	p2.Text(50, 780, 18, true, "Figure 1: Revenue by quarter (EUR thousands)")
	p2.Stroke(0, 0, 0, 1.2)
	p2.Line(90, 300, 520, 300)
	p2.Line(90, 300, 90, 720)
	vals := []float64{1240, 1385, 1512, 1730}
	for i, v := range vals {
		h := v / 1800 * 400
		x := 120 + float64(i)*100
		p2.Fill(0.15+0.15*float64(i), 0.45, 0.75-0.12*float64(i))
		p2.Rect(x, 300, 60, h, true)
		p2.Fill(0, 0, 0)
		p2.Text(x+12, 280, 12, true, fmt.Sprintf("Q%d", i+1))
		p2.Text(x+10, 306+h, 11, false, fmt.Sprintf("%.0f", v))
	}
	for v := 0.0; v <= 1800; v += 600 {
		y := 300 + v/1800*400
		p2.Text(50, y-4, 10, false, fmt.Sprintf("%.0f", v))
	}
	p2.Text(50, 220, 12, false, "Q4 was the strongest quarter, helped by the winter sale of electric bikes.")
	p2.Text(50, 60, 9, false, "Northwind Bikes B.V. - internal report - page 2 of 2")
	return d
}

func guide() *pdfwrite.Doc {
	d := pdfwrite.New()
	d.Title = "Bicycle repair guide"
	steps := [][]string{
		{"How to fix a flat tyre", "1. Remove the wheel: open the brake and the quick-release lever.",
			"2. Lever the tyre off the rim with two tyre levers.", "3. Pull out the inner tube and find the hole.",
			"4. Roughen the area, apply glue, wait one minute, press on the patch.",
			"5. Check the inside of the tyre for glass or thorns.", "6. Refit tube and tyre, inflate to the pressure on the sidewall."},
		{"How to adjust rim brakes", "1. Squeeze the brake lever: the pads should touch the rim firmly.",
			"2. Turn the barrel adjuster out to tighten a loose cable.", "3. Align each pad flat against the rim, toe-in 1 mm.",
			"4. Tighten the pad bolts to 6 Nm.", "5. Spin the wheel and listen: no rubbing allowed."},
	}
	for i, s := range steps {
		p := d.AddPage(612, 792)
		p.Fill(0, 0, 0)
		p.Text(60, 720, 22, true, s[0])
		for k, line := range s[1:] {
			p.Text(60, 680-float64(k)*22, 12, false, line)
		}
		// A wheel: tyre, rim, hub and spokes.
		cx, cy := 306.0, 260.0
		p.Stroke(0.1, 0.1, 0.1, 14)
		p.Circle(cx, cy, 150, false)
		p.Stroke(0.6, 0.6, 0.65, 3)
		p.Circle(cx, cy, 138, false)
		p.Stroke(0.4, 0.4, 0.4, 1)
		for a := 0; a < 16; a++ {
			dx, dy := unit(float64(a) / 16)
			p.Line(cx, cy, cx+136*dx, cy+136*dy)
		}
		p.Fill(0.3, 0.3, 0.3)
		p.Circle(cx, cy, 14, true)
		if i == 0 {
			p.Fill(0.85, 0.1, 0.1)
			p.Circle(cx+106, cy+106, 9, true)
			p.Text(cx+124, cy+124, 12, true, "puncture")
		} else {
			p.Fill(0.2, 0.2, 0.2)
			p.Rect(cx-20, cy+135, 40, 18, true)
			p.Text(cx+30, cy+150, 12, true, "brake pad")
		}
	}
	return d
}

// unit returns the unit vector at turn fraction t (0..1).
func unit(t float64) (float64, float64) {
	return math.Cos(2 * math.Pi * t), math.Sin(2 * math.Pi * t)
}

func timetable() *pdfwrite.Doc {
	d := pdfwrite.New()
	d.Title = "Train timetable Amsterdam - Utrecht - Eindhoven"
	p := d.AddPage(842, 595)
	p.Fill(0.8, 0.1, 0.1)
	p.Rect(0, 545, 842, 50, true)
	p.Fill(1, 1, 1)
	p.Text(40, 562, 20, true, "Intercity timetable: Amsterdam Centraal - Utrecht Centraal - Eindhoven")
	stations := []string{"Amsterdam Centraal", "Amsterdam Amstel", "Utrecht Centraal", "'s-Hertogenbosch", "Eindhoven Centraal"}
	deps := []int{6*60 + 8, 6*60 + 38, 7*60 + 8, 7*60 + 38, 8*60 + 8, 8*60 + 38}
	offs := []int{0, 8, 27, 55, 75}
	p.Fill(0, 0, 0)
	p.Text(40, 510, 12, true, "Station")
	for j, dep := range deps {
		p.Text(220+float64(j)*95, 510, 12, true, fmt.Sprintf("IC %d", 3500+2*j))
		_ = dep
	}
	p.Stroke(0.5, 0.5, 0.5, 0.6)
	for i, st := range stations {
		y := 480 - float64(i)*34
		p.Text(40, y, 12, false, st)
		for j, dep := range deps {
			t := dep + offs[i]
			p.Text(228+float64(j)*95, y, 12, false, fmt.Sprintf("%02d:%02d", t/60, t%60))
		}
		p.Line(40, y-12, 800, y-12)
	}
	p.Text(40, 250, 11, false, "Trains run every 30 minutes, Monday to Friday. Bicycles are allowed outside rush hours.")
	p.Text(40, 232, 11, false, "Platform changes are shown on the departure boards.")
	return d
}

func cat() *pdfwrite.Doc {
	d := pdfwrite.New()
	p := d.AddPage(400, 300)
	p.Fill(0.75, 0.88, 0.97) // sky
	p.Rect(0, 0, 400, 300, true)
	p.Fill(0.45, 0.7, 0.35) // grass
	p.Rect(0, 0, 400, 70, true)
	orange := func() { p.Fill(0.93, 0.55, 0.2) }
	orange()
	p.Ellipse(200, 110, 80, 55, true)             // body
	p.Circle(200, 190, 50, true)                  // head
	p.Polygon(true, 160, 215, 168, 262, 192, 232) // ears
	p.Polygon(true, 240, 215, 232, 262, 208, 232)
	p.Stroke(0.93, 0.55, 0.2, 12)
	p.Raw("280 100 m 330 110 340 170 310 190 c S") // tail
	p.Fill(0.98, 0.75, 0.75)
	p.Polygon(true, 166, 222, 170, 250, 186, 232)
	p.Polygon(true, 234, 222, 230, 250, 214, 232)
	p.Fill(1, 1, 1)
	p.Ellipse(182, 198, 11, 13, true)
	p.Ellipse(218, 198, 11, 13, true)
	p.Fill(0.1, 0.5, 0.2)
	p.Ellipse(182, 197, 5, 10, true)
	p.Ellipse(218, 197, 5, 10, true)
	p.Fill(0.85, 0.3, 0.4)
	p.Polygon(true, 194, 180, 206, 180, 200, 172)
	p.Stroke(0.2, 0.2, 0.2, 1.2)
	p.Line(200, 172, 200, 164)
	p.Raw("200 164 m 194 158 188 160 186 164 c S 200 164 m 206 158 212 160 214 164 c S")
	for _, w := range [][4]float64{{185, 172, 140, 180}, {185, 168, 140, 164}, {215, 172, 260, 180}, {215, 168, 260, 164}} {
		p.Line(w[0], w[1], w[2], w[3])
	}
	orange()
	p.Ellipse(165, 62, 18, 10, true) // paws
	p.Ellipse(235, 62, 18, 10, true)
	return d
}

func receipt() *pdfwrite.Doc {
	d := pdfwrite.New()
	p := d.AddPage(226, 420)
	p.Fill(0, 0, 0)
	p.Text(48, 390, 14, true, "CORNER BAKERY")
	p.Text(52, 374, 8, false, "12 Market Street, Utrecht")
	p.Text(70, 362, 8, false, "Tel. 030 123 4567")
	items := [][2]string{{"Sourdough loaf", "4.20"}, {"2x Croissant", "3.10"}, {"Apple pie slice", "3.75"}, {"Cappuccino", "3.40"}, {"Orange juice", "2.95"}}
	y := 330.0
	for _, it := range items {
		p.Text(20, y, 10, false, it[0])
		p.Text(170, y, 10, false, it[1])
		y -= 18
	}
	p.Line(20, y+8, 206, y+8)
	p.Text(20, y-8, 12, true, "TOTAL EUR")
	p.Text(162, y-8, 12, true, "17.40")
	p.Text(20, y-30, 9, false, "Paid by card   VAT 9% incl. 1.44")
	p.Text(20, y-46, 9, false, "27-11-2026  08:42   Till 2")
	p.Text(52, 40, 10, true, "Thank you, see you soon!")
	return d
}
